package store

import (
	"context"
	"fmt"
)

// DocumentByChecksum finds the user's finished document with these bytes (SHA-256, hex),
// ErrNotFound when there is none: imports skip what is already there.
func (s *Store) DocumentByChecksum(ctx context.Context, userID, sum string) (Document, error) {
	d, err := scanDocument(s.db.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents d
		WHERE d.user_id = $1 AND d.sha256 = $2 AND d.status <> 'pending' ORDER BY d.created_at, d.id LIMIT 1`, userID, sum))
	if err != nil {
		return Document{}, fmt.Errorf("store: document by checksum: %w", err)
	}
	return d, nil
}

// SetText stores text that came with a document (an import's, e.g. Paperless-ngx's OCR
// content) as its extracted text; classification keeps it instead of extracting again.
func (s *Store) SetText(ctx context.Context, userID, id, text string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET text = $1 WHERE id = $2 AND user_id = $3`, text, id, userID)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("store: set text: %w", err)
	}
	return nil
}
