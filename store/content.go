package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// ThumbSuffix ends the key of a document's thumbnail, stored beside its object.
const ThumbSuffix = ".thumb"

// ThumbKeyFor is where the thumbnail of the document with object key objectKey lives. It is
// never charged to the quota and is queued for deletion with the document.
func ThumbKeyFor(objectKey string) string { return objectKey + ThumbSuffix }

// DocumentText is the extracted (or recognised) text of one of the user's documents.
func (s *Store) DocumentText(ctx context.Context, userID, id string) (string, error) {
	var text string
	if err := s.db.QueryRowContext(ctx, `SELECT text FROM documents WHERE id = $1 AND user_id = $2`, id, userID).Scan(&text); err != nil {
		return "", fmt.Errorf("store: document text: %w", notFound(err))
	}
	return text, nil
}

// ThumbnailType is the media type of a document's thumbnail ("" while it has none).
func (s *Store) ThumbnailType(ctx context.Context, userID, id string) (string, error) {
	var t sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT thumbnail_type FROM documents WHERE id = $1 AND user_id = $2`, id, userID).Scan(&t); err != nil {
		return "", fmt.Errorf("store: thumbnail type: %w", notFound(err))
	}
	return t.String, nil
}

// SetThumbnail records that the thumbnail of a confirmed document is stored (media type
// contentType). false: the document is gone, and the caller deletes the thumbnail it just
// wrote — the outbox may have drained the key before the thumbnail existed.
func (s *Store) SetThumbnail(ctx context.Context, id, contentType string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET thumbnail_type = $1 WHERE id = $2 AND status <> 'pending'`, contentType, id)
	if err != nil {
		return false, fmt.Errorf("store: set thumbnail: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: set thumbnail: %w", err)
	}
	return n == 1, nil
}

// thumbOwner maps a thumbnail key to its document's object key (ok false for other keys).
func thumbOwner(key string) (string, bool) { return strings.CutSuffix(key, ThumbSuffix) }
