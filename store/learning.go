package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// setManualTopics replaces a document's topics with the user's choice (source manual,
// confidence 1) and, in the same transaction, moves the document's term counts in its
// owner's model from the topics it no longer has to the ones it gained. Suggestions go:
// the user has decided.
func (s *Store) setManualTopics(ctx context.Context, tx *sql.Tx, userID, id string, ids []string, terms func(filename, text string) map[string]int) error {
	rows, err := tx.QueryContext(ctx, `SELECT topic_id FROM document_topics WHERE document_id = $1 AND trained = 1`, id)
	if err != nil {
		return err
	}
	was := map[string]bool{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		was[t] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := map[string]bool{}
	var gained, lost []string
	for _, t := range ids {
		now[t] = true
		if !was[t] {
			gained = append(gained, t)
		}
	}
	for t := range was {
		if !now[t] {
			lost = append(lost, t)
		}
	}
	trained := 0
	if terms != nil {
		trained = 1
		if len(gained)+len(lost) > 0 {
			var filename string
			var text sql.NullString
			if err := tx.QueryRowContext(ctx, `SELECT filename, text FROM documents WHERE id = $1`, id).Scan(&filename, &text); err != nil {
				return err
			}
			delta := map[string]int{}
			for _, t := range lost {
				delta[t] = -1
			}
			for _, t := range gained {
				delta[t] = +1
			}
			if err := s.learn(ctx, tx, userID, delta, terms(filename, text.String)); err != nil {
				return err
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM document_topics WHERE document_id = $1`, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM document_suggestions WHERE document_id = $1`, id); err != nil {
		return err
	}
	for _, t := range ids {
		// A topic this document had taught before stays taught even without a Terms function.
		tr := trained
		if was[t] {
			tr = 1
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO document_topics (document_id, topic_id, source, confidence, trained)
			VALUES ($1, $2, 'user', 1, $3)`, id, t, tr); err != nil {
			return err
		}
	}
	return nil
}

// learnBatch is how many term rows one statement adds (4 parameters each).
const learnBatch = 250

// learn adds one document's term counts to userID's model for each topic whose sign is +1
// and takes them away where it is -1. Every change is an addition in the database
// (n = n + excluded.n), never a value read and written back, so concurrent corrections on
// any replica all count; rows are touched in one global order (term, topic) so concurrent
// transactions never wait on each other in a cycle.
func (s *Store) learn(ctx context.Context, tx *sql.Tx, userID string, sign map[string]int, counts map[string]int) error {
	type row struct {
		term, topic string
		n           int
	}
	topics := make([]string, 0, len(sign))
	for t := range sign {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	terms := make([]string, 0, len(counts))
	total := 0
	for t, n := range counts {
		terms = append(terms, t)
		total += n
	}
	sort.Strings(terms)
	rows := make([]row, 0, len(terms)*len(topics))
	for _, term := range terms {
		for _, topic := range topics {
			rows = append(rows, row{term, topic, sign[topic] * counts[term]})
		}
	}
	for start := 0; start < len(rows); start += learnBatch {
		chunk := rows[start:min(start+learnBatch, len(rows))]
		var b strings.Builder
		args := make([]any, 0, 4*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($%d, $%d, $%d, $%d)", 4*i+1, 4*i+2, 4*i+3, 4*i+4)
			args = append(args, userID, r.term, r.topic, r.n)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO topic_terms (user_id, term, topic_id, n) VALUES `+b.String()+`
			ON CONFLICT (user_id, term, topic_id) DO UPDATE SET n = topic_terms.n + excluded.n`, args...); err != nil {
			return fmt.Errorf("learn terms: %w", err)
		}
	}
	for _, topic := range topics {
		if _, err := tx.ExecContext(ctx, `INSERT INTO topic_stats (user_id, topic_id, docs, terms) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, topic_id) DO UPDATE SET docs = topic_stats.docs + excluded.docs, terms = topic_stats.terms + excluded.terms`,
			userID, topic, sign[topic], sign[topic]*total); err != nil {
			return fmt.Errorf("learn topic: %w", err)
		}
	}
	// Counts that reached zero say nothing: drop them so the model stays as small as what it knows.
	for start := 0; start < len(terms); start += modelTermsPerQuery {
		chunk := terms[start:min(start+modelTermsPerQuery, len(terms))]
		if _, err := tx.ExecContext(ctx, `DELETE FROM topic_terms WHERE user_id = $1 AND n <= 0 AND term IN (`+
			placeholders(2, len(chunk))+`)`, append([]any{userID}, stringsAny(chunk)...)...); err != nil {
			return fmt.Errorf("unlearn terms: %w", err)
		}
	}
	return nil
}

func stringsAny(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

// TopicModel is the part of a user's learned model that one document needs.
type TopicModel struct {
	Docs  map[string]int64            // topic ID → documents that taught it
	Terms map[string]int64            // topic ID → term occurrences that taught it
	Count map[string]map[string]int64 // term → topic ID → occurrences
}

// modelTermsPerQuery bounds the terms looked up in one statement.
const modelTermsPerQuery = 500

// UserTopicModel reads userID's learned counts for the terms termsOf lists (and the
// per-topic totals): index lookups whose cost follows the document's terms, not the user's
// documents. termsOf is called only when the user has learned anything.
func (s *Store) UserTopicModel(ctx context.Context, userID string, termsOf func() []string) (TopicModel, error) {
	m := TopicModel{Docs: map[string]int64{}, Terms: map[string]int64{}, Count: map[string]map[string]int64{}}
	rows, err := s.db.QueryContext(ctx, `SELECT topic_id, docs, terms FROM topic_stats WHERE user_id = $1 AND docs > 0`+Prepared, userID)
	if err != nil {
		return m, fmt.Errorf("store: topic model: %w", err)
	}
	for rows.Next() {
		var id string
		var docs, n int64
		if err := rows.Scan(&id, &docs, &n); err != nil {
			rows.Close()
			return m, fmt.Errorf("store: topic model: %w", err)
		}
		m.Docs[id], m.Terms[id] = docs, n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return m, fmt.Errorf("store: topic model: %w", err)
	}
	if len(m.Docs) == 0 {
		return m, nil // nothing learned yet: the cold start needs no term lookups
	}
	terms := termsOf()
	for start := 0; start < len(terms); start += modelTermsPerQuery {
		chunk := terms[start:min(start+modelTermsPerQuery, len(terms))]
		width := lookupWidth(len(chunk))
		args := make([]any, 0, 1+width)
		args = append(append(args, userID), stringsAny(chunk)...)
		for len(args) < 1+width {
			args = append(args, chunk[len(chunk)-1]) // a term twice matches once
		}
		rows, err := s.db.QueryContext(ctx, `SELECT term, topic_id, n FROM topic_terms WHERE user_id = $1 AND term IN (`+
			placeholders(2, len(args)-1)+`)`+Prepared, args...)
		if err != nil {
			return m, fmt.Errorf("store: topic model: %w", err)
		}
		for rows.Next() {
			var term, topic string
			var n int64
			if err := rows.Scan(&term, &topic, &n); err != nil {
				rows.Close()
				return m, fmt.Errorf("store: topic model: %w", err)
			}
			if m.Count[term] == nil {
				m.Count[term] = map[string]int64{}
			}
			m.Count[term][topic] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return m, fmt.Errorf("store: topic model: %w", err)
		}
	}
	return m, nil
}

// lookupWidth is how many terms a model lookup of n terms asks for: n rounded up to a power
// of two (at least 16, at most modelTermsPerQuery), the rest filled with a repeated term.
// Every document has its own number of terms; a handful of statement texts instead of one
// per number lets each connection keep them prepared (SQLite's statement cache, pgx's).
func lookupWidth(n int) int {
	w := 16
	for w < n {
		w *= 2
	}
	return min(w, modelTermsPerQuery)
}

// LabeledDocument is a document with the topics its owner set by hand.
type LabeledDocument struct {
	ID, Filename, Text string
	TopicIDs           []string
}

// LabeledDocuments lists userID's documents with manual topics, oldest first: what
// `docuvault classify eval -user` learns from and tests on. An offline command's read.
func (s *Store) LabeledDocuments(ctx context.Context, userID string) ([]LabeledDocument, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, d.filename, COALESCE(d.text, ''), dt.topic_id FROM documents d
		JOIN document_topics dt ON dt.document_id = d.id
		WHERE d.user_id = $1 AND dt.source = 'user' ORDER BY d.created_at, d.id, dt.topic_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: labeled documents: %w", err)
	}
	defer rows.Close()
	var out []LabeledDocument
	for rows.Next() {
		var d LabeledDocument
		var topic string
		if err := rows.Scan(&d.ID, &d.Filename, &d.Text, &topic); err != nil {
			return nil, fmt.Errorf("store: labeled documents: %w", err)
		}
		if n := len(out); n > 0 && out[n-1].ID == d.ID {
			out[n-1].TopicIDs = append(out[n-1].TopicIDs, topic)
			continue
		}
		d.TopicIDs = []string{topic}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: labeled documents: %w", err)
	}
	return out, nil
}
