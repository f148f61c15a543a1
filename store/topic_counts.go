package store

import (
	"context"
	"fmt"
)

// topicCountsSQL reads each of the user's documents' topics by key. PostgreSQL would
// rather hash the whole document_topics table while it is small, so its statement fences the
// per-document lookup (a LATERAL subquery with OFFSET 0 is never flattened into a join);
// SQLite already drives the join from the user's documents.
func (s *Store) topicCountsSQL() string {
	join := `JOIN document_topics dt ON dt.document_id = d.id`
	if s.dialect == Postgres {
		join = `CROSS JOIN LATERAL (SELECT topic_id FROM document_topics WHERE document_id = d.id OFFSET 0) dt`
	}
	return `SELECT dt.topic_id, COUNT(*) FROM documents d ` + join + ` WHERE d.user_id = $1 AND d.trashed = $2 GROUP BY dt.topic_id`
}

// TopicDocumentCounts counts the user's documents (not trashed) per topic. It reads the
// user's own range of the list index and each document's topics by primary key: its cost
// follows the user's documents, never anyone else's (a system topic's assignments to other
// users' documents are not read). Topics without documents are absent.
func (s *Store) TopicDocumentCounts(ctx context.Context, userID string) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, s.topicCountsSQL(), userID, false)
	if err != nil {
		return nil, fmt.Errorf("store: topic document counts: %w", err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("store: topic document counts: %w", err)
		}
		counts[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: topic document counts: %w", err)
	}
	return counts, nil
}
