package store

import (
	"context"
	"fmt"
	"time"
)

// ThrottleRule says how many login attempts one bucket allows. Within Window (counted from
// the bucket's first attempt) at most Limit attempts pass; once Free attempts have passed,
// each further one must come at least Spacing after the previous one that passed.
// A hard limit is Free = Limit; a backoff is a large Limit with a small Free.
type ThrottleRule struct {
	Window  time.Duration
	Limit   int
	Free    int
	Spacing time.Duration
}

// ThrottleGrant is the outcome of one counted attempt.
type ThrottleGrant struct {
	Bucket     string
	Allowed    bool
	RetryAfter time.Duration // when not allowed: how long until the bucket lets one through
	window     int64         // the window the attempt was counted in (for a refund)
}

// takeAttemptSQL counts an attempt and decides, in one statement, whether it passes: a
// window that has run out starts again at this attempt; otherwise the attempt passes only
// below the limit and, past the free count, once the spacing has elapsed. A refused
// attempt changes nothing, so refusals never extend a wait. The SET expressions read the
// row as it was, and the row lock (Postgres) or the single writer (SQLite) serializes
// concurrent attempts, so N parallel requests cannot all see the same old count.
// $1 bucket, $2 now, $3 window expired at or before, $4 limit, $5 free, $6 next allowed.
const takeAttemptSQL = `INSERT INTO login_throttle (bucket, attempts, window_start, next_at, granted)
VALUES ($1, 1, $2, $6, TRUE)
ON CONFLICT (bucket) DO UPDATE SET
	attempts = CASE
		WHEN login_throttle.window_start <= $3 THEN 1
		WHEN login_throttle.attempts < $4 AND (login_throttle.attempts < $5 OR login_throttle.next_at <= $2) THEN login_throttle.attempts + 1
		ELSE login_throttle.attempts END,
	granted = CASE
		WHEN login_throttle.window_start <= $3 THEN TRUE
		WHEN login_throttle.attempts < $4 AND (login_throttle.attempts < $5 OR login_throttle.next_at <= $2) THEN TRUE
		ELSE FALSE END,
	next_at = CASE
		WHEN login_throttle.window_start <= $3 THEN $6
		WHEN login_throttle.attempts < $4 AND (login_throttle.attempts < $5 OR login_throttle.next_at <= $2) THEN $6
		ELSE login_throttle.next_at END,
	window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END
RETURNING attempts, window_start, next_at, granted`

// TakeLoginAttempt counts one login attempt against bucket and says whether it may go on
// to the password check. Every replica shares the count.
func (s *Store) TakeLoginAttempt(ctx context.Context, bucket string, r ThrottleRule) (ThrottleGrant, error) {
	now := s.Now()
	ms := now.UnixMilli()
	var attempts int
	var window, next int64
	var granted bool
	err := s.db.QueryRowContext(ctx, takeAttemptSQL, bucket, ms, ms-r.Window.Milliseconds(), r.Limit, r.Free,
		ms+r.Spacing.Milliseconds()).Scan(&attempts, &window, &next, &granted)
	if err != nil {
		return ThrottleGrant{}, fmt.Errorf("store: take login attempt: %w", err)
	}
	g := ThrottleGrant{Bucket: bucket, Allowed: granted, window: window}
	if !granted {
		until := next
		if attempts >= r.Limit {
			until = window + r.Window.Milliseconds()
		}
		g.RetryAfter = time.Duration(until-ms) * time.Millisecond
	}
	return g, nil
}

// RefundLoginAttempt gives back an attempt that passed this bucket but was not a guess
// (refused by a later bucket, or a successful login). A window that started since is
// left alone.
func (s *Store) RefundLoginAttempt(ctx context.Context, g ThrottleGrant) error {
	_, err := s.db.ExecContext(ctx, `UPDATE login_throttle SET attempts = attempts - 1
		WHERE bucket = $1 AND window_start = $2 AND attempts > 0`, g.Bucket, g.window)
	if err != nil {
		return fmt.Errorf("store: refund login attempt: %w", err)
	}
	return nil
}

// ResetLoginBucket forgets a bucket's attempts (after a successful login).
func (s *Store) ResetLoginBucket(ctx context.Context, bucket string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_throttle WHERE bucket = $1`, bucket); err != nil {
		return fmt.Errorf("store: reset login bucket: %w", err)
	}
	return nil
}

// PruneLoginThrottle drops buckets whose window started before before and whose spacing
// has passed: they would start afresh anyway.
func (s *Store) PruneLoginThrottle(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM login_throttle WHERE window_start < $1 AND next_at < $2`,
		before.UnixMilli(), s.Now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: prune login throttle: %w", err)
	}
	return res.RowsAffected()
}

// PruneSessions drops expired sessions (the session store's own cleanup is off; this runs
// as a scheduled job instead).
func (s *Store) PruneSessions(ctx context.Context) (int64, error) {
	q := `DELETE FROM sessions WHERE expiry < julianday('now')`
	if s.dialect == Postgres {
		q = `DELETE FROM sessions WHERE expiry < current_timestamp`
	}
	res, err := s.db.ExecContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("store: prune sessions: %w", err)
	}
	return res.RowsAffected()
}
