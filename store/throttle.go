package store

import (
	"context"
	"fmt"
	"time"
)

// LoginFailures counts recent failed logins for one username and one client address.
type LoginFailures struct {
	ByUsername, ByIP         int
	OldestByUser, OldestByIP time.Time
}

// RecordLoginFailure notes a failed login (in the database, so every replica sees it).
func (s *Store) RecordLoginFailure(ctx context.Context, username, ip string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO login_failures (username, ip, at) VALUES ($1, $2, $3)`, username, ip, s.Now())
	if err != nil {
		return fmt.Errorf("store: record login failure: %w", err)
	}
	return nil
}

// RecentLoginFailures counts failures since the given time.
func (s *Store) RecentLoginFailures(ctx context.Context, username, ip string, since time.Time) (LoginFailures, error) {
	var f LoginFailures
	count := func(col, val string, n *int, oldest *time.Time) error {
		rows, err := s.db.QueryContext(ctx, `SELECT at FROM login_failures WHERE `+col+` = $1 AND at > $2 ORDER BY at`, val, since)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var at time.Time
			if err := rows.Scan(&at); err != nil {
				return err
			}
			if *n == 0 {
				*oldest = at.UTC()
			}
			*n++
		}
		return rows.Err()
	}
	if err := count("username", username, &f.ByUsername, &f.OldestByUser); err != nil {
		return f, fmt.Errorf("store: login failures: %w", err)
	}
	if err := count("ip", ip, &f.ByIP, &f.OldestByIP); err != nil {
		return f, fmt.Errorf("store: login failures: %w", err)
	}
	return f, nil
}

// ClearLoginFailures forgets a username's failures after a successful login.
func (s *Store) ClearLoginFailures(ctx context.Context, username string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE username = $1`, username)
	return err
}

// PruneLoginFailures drops failures older than before.
func (s *Store) PruneLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE at < $1`, before)
	if err != nil {
		return 0, err
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
