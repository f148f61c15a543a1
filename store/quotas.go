package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
)

// Quota is a user's storage allowance.
type Quota struct {
	UsedBytes    int64
	LimitBytes   int64
	PendingBytes int64 // reserved by uploads not yet confirmed
	// TrashBytes is the part of UsedBytes held by trashed documents; DocumentCount and
	// TrashCount count the documents in the list (any status) and in the trash.
	TrashBytes, DocumentCount, TrashCount int64
}

// QuotaError tells how a confirm would overshoot the quota; it wraps ErrQuotaExceeded.
type QuotaError struct {
	Quota
	RejectedBytes int64
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("quota exceeded: %d used of %d, %d rejected", e.UsedBytes, e.LimitBytes, e.RejectedBytes)
}

// Unwrap lets errors.Is(err, ErrQuotaExceeded) match.
func (e *QuotaError) Unwrap() error { return ErrQuotaExceeded }

// QuotaOf reads the user's quota.
func (s *Store) QuotaOf(ctx context.Context, userID string) (Quota, error) {
	var q Quota
	err := s.db.QueryRowContext(ctx, `SELECT used_bytes, limit_bytes, pending_bytes, trash_bytes, document_count, trash_count
		FROM quotas WHERE user_id = $1`, userID).Scan(&q.UsedBytes, &q.LimitBytes, &q.PendingBytes, &q.TrashBytes, &q.DocumentCount, &q.TrashCount)
	if err != nil {
		return q, fmt.Errorf("store: quota: %w", notFound(err))
	}
	return q, nil
}

// QuotaCorrection is one drift the reconciliation fixed.
type QuotaCorrection struct {
	UserID   string
	Was, Now int64
}

// ReconcileQuotas recomputes used_bytes from the confirmed documents and logs each correction.
// A first consistent read finds the users whose used_bytes drifted; each of them is then
// corrected in a transaction of its own that locks the quota row before it sums the
// documents. The lock matters on Postgres: an UPDATE whose SET sums the documents reads them
// as of the statement's start, so one that waited for a confirm's row lock would overwrite
// that confirm's charge with the older sum. After the lock, the sum is read from a snapshot
// taken later, and a confirm still waiting for the lock adds its bytes on top of it.
func (s *Store) ReconcileQuotas(ctx context.Context) ([]QuotaCorrection, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT q.user_id, q.used_bytes, `+sumConfirmed+` FROM quotas q`)
	if err != nil {
		return nil, fmt.Errorf("store: reconcile quotas: %w", err)
	}
	var drifted []string
	for rows.Next() {
		var c QuotaCorrection
		if err := rows.Scan(&c.UserID, &c.Was, &c.Now); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: reconcile quotas: %w", err)
		}
		if c.Was != c.Now {
			drifted = append(drifted, c.UserID)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reconcile quotas: %w", err)
	}
	var fixed []QuotaCorrection
	for _, userID := range drifted {
		c, changed, err := s.reconcileQuota(ctx, userID)
		if err != nil {
			return fixed, err
		}
		if changed {
			fixed = append(fixed, c)
			slog.Warn("quota corrected", "user_id", c.UserID, "was", c.Was, "now", c.Now)
		}
	}
	return fixed, nil
}

// sumConfirmed is the bytes a quota row q must account for: its user's confirmed documents.
const sumConfirmed = `COALESCE((SELECT SUM(d.size_bytes) FROM documents d WHERE d.user_id = q.user_id AND d.status <> 'pending'), 0)`

// reconcileQuota locks one user's quota row (SQLite's IMMEDIATE transaction holds the write
// lock already), then sums the documents and stores the sum if it differs.
func (s *Store) reconcileQuota(ctx context.Context, userID string) (c QuotaCorrection, changed bool, err error) {
	c.UserID = userID
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT used_bytes FROM quotas WHERE user_id = $1`+s.forUpdate(), userID).Scan(&c.Was); err != nil {
			return notFound(err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT `+sumConfirmed+` FROM quotas q WHERE q.user_id = $1`, userID).Scan(&c.Now); err != nil {
			return err
		}
		if c.Was == c.Now {
			return nil
		}
		changed = true
		_, err := tx.ExecContext(ctx, `UPDATE quotas SET used_bytes = $1 WHERE user_id = $2`, c.Now, userID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return c, false, nil // the user was deleted meanwhile
	}
	if err != nil {
		return c, false, fmt.Errorf("store: reconcile quota of %s: %w", userID, err)
	}
	return c, changed, nil
}
