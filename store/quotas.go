package store

import (
	"context"
	"fmt"
	"log/slog"
)

// Quota is a user's storage allowance.
type Quota struct {
	UsedBytes    int64
	LimitBytes   int64
	PendingBytes int64 // reserved by uploads not yet confirmed
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
	err := s.db.QueryRowContext(ctx, `SELECT used_bytes, limit_bytes, pending_bytes FROM quotas WHERE user_id = $1`, userID).
		Scan(&q.UsedBytes, &q.LimitBytes, &q.PendingBytes)
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
// The recomputation happens inside each UPDATE, so a concurrent upload cannot be lost.
func (s *Store) ReconcileQuotas(ctx context.Context) ([]QuotaCorrection, error) {
	const actual = `COALESCE((SELECT SUM(d.size_bytes) FROM documents d WHERE d.user_id = q.user_id AND d.status <> 'pending'), 0)`
	rows, err := s.db.QueryContext(ctx, `SELECT q.user_id, q.used_bytes, `+actual+` FROM quotas q`)
	if err != nil {
		return nil, fmt.Errorf("store: reconcile quotas: %w", err)
	}
	var drift []QuotaCorrection
	for rows.Next() {
		var c QuotaCorrection
		if err := rows.Scan(&c.UserID, &c.Was, &c.Now); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: reconcile quotas: %w", err)
		}
		if c.Was != c.Now {
			drift = append(drift, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reconcile quotas: %w", err)
	}
	for i, c := range drift {
		if err := s.db.QueryRowContext(ctx, `UPDATE quotas AS q SET used_bytes = `+actual+` WHERE q.user_id = $1 RETURNING used_bytes`,
			c.UserID).Scan(&drift[i].Now); err != nil {
			return nil, fmt.Errorf("store: reconcile quotas: %w", err)
		}
		slog.Warn("quota corrected", "user_id", c.UserID, "was", c.Was, "now", drift[i].Now)
	}
	return drift, nil
}
