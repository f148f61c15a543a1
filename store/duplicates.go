package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrDuplicate means the user already has a document with the same bytes.
var ErrDuplicate = errors.New("duplicate document")

// DuplicateError names the user's document that already holds the same bytes.
type DuplicateError struct {
	ExistingID string
}

func (e *DuplicateError) Error() string { return "same bytes as document " + e.ExistingID }

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// Duplicate policies (config documents.duplicates).
const (
	DuplicatesReject = "reject"
	DuplicatesAllow  = "allow"
)

// WithDuplicates sets what confirming the same bytes twice does: DuplicatesReject (the
// default) refuses the second upload with a *DuplicateError, DuplicatesAllow keeps both.
func WithDuplicates(policy string) Option {
	return func(s *Store) { s.allowDuplicates = policy == DuplicatesAllow }
}

// checkDuplicate refuses, in tx, a document whose SHA-256 sum another confirmed document of
// the same user has. The user's quota row is locked (the caller holds the document's row),
// so two confirms of the same bytes take turns and the second sees the first once it
// commits, on both dialects. Duplicates
// are looked for per user only: a match across users would tell that someone else holds a
// file. An unknown sum ("") passes; the worker checks again once it has hashed the bytes.
// quotaLocked: tx has already written the user's quota row (a confirm's conditional
// UPDATE), which holds the same lock, so it is not taken a second time.
func (s *Store) checkDuplicate(ctx context.Context, tx *sql.Tx, userID, id, sum string, quotaLocked bool) error {
	if s.allowDuplicates || sum == "" {
		return nil
	}
	if !quotaLocked {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM quotas WHERE user_id = $1`+s.forUpdate(), userID).Scan(&one); err != nil {
			return notFound(err)
		}
	}
	var existing string
	err := tx.QueryRowContext(ctx, `SELECT id FROM documents WHERE user_id = $1 AND sha256 = $2 AND id <> $3
		AND status <> 'pending' ORDER BY created_at, id LIMIT 1`+Prepared, userID, sum, id).Scan(&existing)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return &DuplicateError{ExistingID: existing}
}

// DuplicateOf returns the id of the user's confirmed document with SHA-256 sum, for a check
// before any byte is sent (a client that declares its checksum); ErrNotFound when none, or
// when duplicates are allowed.
func (s *Store) DuplicateOf(ctx context.Context, userID, sum string) (string, error) {
	if s.allowDuplicates {
		return "", ErrNotFound
	}
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM documents WHERE user_id = $1 AND sha256 = $2 AND status <> 'pending'
		ORDER BY created_at, id LIMIT 1`, userID, sum).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("store: duplicate of: %w", notFound(err))
	}
	return id, nil
}

// RecordChecksum sets the SHA-256 of a confirmed document's bytes unless one is recorded
// (the worker hashes uploads that went straight to the object store). When the user already
// has another document with those bytes and duplicates are refused, this one is removed in
// the same transaction, its bytes given back to the quota and its objects queued for
// deletion: a *DuplicateError with the kept document's id.
func (s *Store) RecordChecksum(ctx context.Context, id, sum string) error {
	var dup *DuplicateError
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		dup = nil
		var userID string
		// The document row is locked before the quota row, the order deletions take.
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM documents WHERE id = $1 AND sha256 IS NULL AND status <> 'pending'`+
			s.forUpdate(), id).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // recorded already, or deleted meanwhile
		}
		if err != nil {
			return err
		}
		if err := s.checkDuplicate(ctx, tx, userID, id, sum, false); err != nil {
			if !errors.As(err, &dup) {
				return err
			}
			_, err = s.deleteDocumentTx(ctx, tx, userID, id)
			return err // the removal commits; the caller learns of it below
		}
		_, err = tx.ExecContext(ctx, `UPDATE documents SET sha256 = $1 WHERE id = $2 AND sha256 IS NULL AND status <> 'pending'`, sum, id)
		return err
	})
	if err == nil && dup != nil {
		err = dup
	}
	if err != nil {
		return fmt.Errorf("store: record checksum: %w", err)
	}
	return nil
}
