package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// ObjectDeleter removes one object from the blob store (idempotent: a missing object is not an error).
type ObjectDeleter interface {
	Delete(ctx context.Context, key string) error
}

// enqueueDeletion writes an outbox row in the caller's transaction.
func enqueueDeletion(ctx context.Context, tx *sql.Tx, key string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO blob_deletions (object_key, attempts, next_attempt_at)
		VALUES ($1, 0, $2) ON CONFLICT (object_key) DO NOTHING`, key, time.Unix(0, 0).UTC())
	return err
}

// PendingDeletions counts the outbox rows.
func (s *Store) PendingDeletions(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM blob_deletions`).Scan(&n)
	return n, err
}

// DrainResult tells what one pass over the outbox did.
type DrainResult struct {
	Deleted, Failed int
}

// deletionBackoff is the wait before the next try after attempts failures: 30s doubling, at most 6h.
func deletionBackoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

// DrainDeletions deletes the due outbox objects from blobs, removing each row once its object
// is gone and pushing a failed key back with exponential backoff.
func (s *Store) DrainDeletions(ctx context.Context, blobs ObjectDeleter, limit int) (DrainResult, error) {
	var res DrainResult
	rows, err := s.db.QueryContext(ctx, `SELECT object_key, attempts FROM blob_deletions
		WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2`, s.Now(), limit)
	if err != nil {
		return res, fmt.Errorf("store: drain deletions: %w", err)
	}
	type due struct {
		key      string
		attempts int
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.key, &d.attempts); err != nil {
			rows.Close()
			return res, fmt.Errorf("store: drain deletions: %w", err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("store: drain deletions: %w", err)
	}
	for _, d := range list {
		if derr := blobs.Delete(ctx, d.key); derr != nil {
			res.Failed++
			next := s.Now().Add(deletionBackoff(d.attempts + 1))
			if _, err := s.db.ExecContext(ctx, `UPDATE blob_deletions SET attempts = attempts + 1,
				next_attempt_at = $1, last_error = $2 WHERE object_key = $3`, next, derr.Error(), d.key); err != nil {
				return res, fmt.Errorf("store: drain deletions: %w", err)
			}
			slog.Warn("blob deletion failed; will retry", "object_key", d.key, "attempts", d.attempts+1, "err", derr)
			continue
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM blob_deletions WHERE object_key = $1`, d.key); err != nil {
			return res, fmt.Errorf("store: drain deletions: %w", err)
		}
		res.Deleted++
	}
	return res, nil
}

// ForgetDeletion drops an outbox row once its object is known to be gone.
func (s *Store) ForgetDeletion(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM blob_deletions WHERE object_key = $1`, key)
	return err
}
