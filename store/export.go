package store

import (
	"context"
	"fmt"
	"time"
)

// ExportDocument is one finished document as an export sees it: its row, the recorded
// checksum, the extracted text (when asked for) and the ids of its topics.
type ExportDocument struct {
	Document
	SHA256   string // "" when none was recorded
	Text     string
	TopicIDs []string
}

// ExportKey is the position after the last document of an export page.
type ExportKey struct {
	CreatedAt time.Time
	ID        string
}

// ExportPage returns up to limit of the user's finished documents (pending ones have no
// bytes yet) after the key, oldest first. Keyset pagination over ix_documents_user_created,
// so every page costs the same however many documents there are.
func (s *Store) ExportPage(ctx context.Context, userID string, after *ExportKey, limit int, withText bool) ([]ExportDocument, error) {
	text := `''`
	if withText {
		text = `d.text`
	}
	args := []any{userID, limit}
	cond := ``
	if after != nil {
		args = append(args, after.CreatedAt, after.ID)
		cond = ` AND (d.created_at > $3 OR (d.created_at = $3 AND d.id > $4))`
	}
	return s.exportQuery(ctx, `SELECT `+documentColumns+`, COALESCE(d.sha256, ''), `+text+` FROM documents d
		WHERE d.user_id = $1 AND d.status <> 'pending'`+cond+` ORDER BY d.created_at, d.id LIMIT $2`, args...)
}

// DocumentsForZip returns the user's finished documents among ids, in the order given.
// ErrNotFound when any id is not one of the user's finished documents, so a caller refuses
// the whole request before sending a byte.
func (s *Store) DocumentsForZip(ctx context.Context, userID string, ids []string) ([]ExportDocument, error) {
	ids = dedupe(ids)
	for _, id := range ids {
		if !isID(id) {
			return nil, fmt.Errorf("store: documents for zip: %w", ErrNotFound)
		}
	}
	if len(ids) == 0 {
		return []ExportDocument{}, nil
	}
	args := []any{userID}
	for _, id := range ids {
		args = append(args, id)
	}
	docs, err := s.exportQuery(ctx, `SELECT `+documentColumns+`, COALESCE(d.sha256, ''), '' FROM documents d
		WHERE d.user_id = $1 AND d.status <> 'pending' AND d.id IN (`+placeholders(2, len(ids))+`)`, args...)
	if err != nil {
		return nil, err
	}
	if len(docs) != len(ids) {
		return nil, fmt.Errorf("store: documents for zip: %w", ErrNotFound)
	}
	byID := make(map[string]ExportDocument, len(docs))
	for _, d := range docs {
		byID[d.ID] = d
	}
	for i, id := range ids {
		docs[i] = byID[id]
	}
	return docs, nil
}

func (s *Store) exportQuery(ctx context.Context, q string, args ...any) ([]ExportDocument, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: export documents: %w", err)
	}
	defer rows.Close()
	out := []ExportDocument{}
	for rows.Next() {
		var e ExportDocument
		d, err := scanDocument(rows, &e.SHA256, &e.Text)
		if err != nil {
			return nil, fmt.Errorf("store: export documents: %w", err)
		}
		e.Document = d
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: export documents: %w", err)
	}
	return out, s.attachTopicIDs(ctx, out)
}

// attachTopicIDs loads the topic ids of docs with one query.
func (s *Store) attachTopicIDs(ctx context.Context, docs []ExportDocument) error {
	if len(docs) == 0 {
		return nil
	}
	args := make([]any, len(docs))
	index := make(map[string]int, len(docs))
	for i, d := range docs {
		args[i] = d.ID
		index[d.ID] = i
		docs[i].TopicIDs = []string{}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT document_id, topic_id FROM document_topics
		WHERE document_id IN (`+placeholders(1, len(docs))+`) ORDER BY topic_id`, args...)
	if err != nil {
		return fmt.Errorf("store: export topics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var docID, topicID string
		if err := rows.Scan(&docID, &topicID); err != nil {
			return fmt.Errorf("store: export topics: %w", err)
		}
		i := index[docID]
		docs[i].TopicIDs = append(docs[i].TopicIDs, topicID)
	}
	return rows.Err()
}

// OwnTopics lists the topics the user owns (not the system ones).
func (s *Store) OwnTopics(ctx context.Context, userID string) ([]Topic, error) {
	return s.queryTopics(ctx, `user_id = $1`, userID)
}
