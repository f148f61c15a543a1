package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Upload claim errors: why a local upload URL no longer takes bytes.
var (
	// ErrUploadUsed is an upload URL whose body was already received (or is streaming).
	ErrUploadUsed = errors.New("upload URL already used")
	// ErrUploadClosed is an upload URL of a document no longer pending (confirmed, deleted,
	// discarded or expired).
	ErrUploadClosed = errors.New("upload no longer accepted")
)

// UploadClaim is a pending document whose body one request is now receiving.
type UploadClaim struct {
	DocumentID   string
	UserID       string
	ObjectKey    string
	DeclaredSize int64
}

// ClaimUpload takes the one-time right to write the bytes of the pending document whose
// object key is objectKey, with one conditional UPDATE, before any byte is written. A second
// use is ErrUploadUsed; a document no longer pending is ErrUploadClosed.
func (s *Store) ClaimUpload(ctx context.Context, objectKey string) (UploadClaim, error) {
	c := UploadClaim{ObjectKey: objectKey}
	err := s.db.QueryRowContext(ctx, `UPDATE documents SET upload_state = 'receiving'
		WHERE object_key = $1 AND status = 'pending' AND upload_state IS NULL RETURNING id, user_id, size_bytes`,
		objectKey).Scan(&c.DocumentID, &c.UserID, &c.DeclaredSize)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("store: claim upload: %w", err)
	}
	var status string
	err = s.db.QueryRowContext(ctx, `SELECT status FROM documents WHERE object_key = $1`, objectKey).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && status != StatusPending):
		return c, fmt.Errorf("store: claim upload: %w", ErrUploadClosed)
	case err != nil:
		return c, fmt.Errorf("store: claim upload: %w", err)
	}
	return c, fmt.Errorf("store: claim upload: %w", ErrUploadUsed)
}

// ReleaseUpload gives a claim back after a failed stream, so the URL can be used again.
func (s *Store) ReleaseUpload(ctx context.Context, c UploadClaim) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE documents SET upload_state = NULL
		WHERE id = $1 AND upload_state = 'receiving'`, c.DocumentID); err != nil {
		return fmt.Errorf("store: release upload: %w", err)
	}
	return nil
}

// FinishUpload marks a claimed upload received and records the SHA-256 of its bytes.
func (s *Store) FinishUpload(ctx context.Context, c UploadClaim, sum string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE documents SET upload_state = 'received', sha256 = $1 WHERE id = $2`,
		nullIfEmpty(sum), c.DocumentID); err != nil {
		return fmt.Errorf("store: finish upload: %w", err)
	}
	return nil
}

// DocumentChecksum is the recorded SHA-256 of a document's bytes ("" if none yet).
func (s *Store) DocumentChecksum(ctx context.Context, id string) (string, error) {
	var sum sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT sha256 FROM documents WHERE id = $1`, id).Scan(&sum); err != nil {
		return "", fmt.Errorf("store: document checksum: %w", notFound(err))
	}
	return sum.String, nil
}

// RecordChecksum sets the SHA-256 of a confirmed document's bytes unless one is recorded.
func (s *Store) RecordChecksum(ctx context.Context, id, sum string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE documents SET sha256 = $1 WHERE id = $2 AND sha256 IS NULL AND status <> 'pending'`,
		sum, id); err != nil {
		return fmt.Errorf("store: record checksum: %w", err)
	}
	return nil
}
