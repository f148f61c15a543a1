package store

import (
	"context"
	"fmt"
	"time"
)

// ClaimTick claims the current tick (time divided into intervals) of job name for this
// replica: one conditional UPDATE decides, so each tick runs once across replicas.
func (s *Store) ClaimTick(ctx context.Context, name string, interval time.Duration) (bool, error) {
	tick := s.Now().UnixNano() / int64(max(interval, time.Millisecond))
	if _, err := s.db.ExecContext(ctx, `INSERT INTO job_runs (name, last_tick) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`, name); err != nil {
		return false, fmt.Errorf("store: claim tick: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE job_runs SET last_tick = $1 WHERE name = $2 AND last_tick < $1`, tick, name)
	if err != nil {
		return false, fmt.Errorf("store: claim tick: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// TryAdvisoryLock takes a Postgres session advisory lock named key on a connection of its
// own, without waiting; unlock releases it. On SQLite (one process) it always succeeds.
func (s *Store) TryAdvisoryLock(ctx context.Context, key string) (unlock func(context.Context) error, ok bool, err error) {
	if s.dialect != Postgres {
		return func(context.Context) error { return nil }, true, nil
	}
	id := advisoryKey(key)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: advisory lock: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, id).Scan(&ok); err != nil || !ok {
		conn.Close()
		if err != nil {
			err = fmt.Errorf("store: advisory lock: %w", err)
		}
		return nil, false, err
	}
	return func(ctx context.Context) error {
		defer conn.Close()
		var released bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, id).Scan(&released); err != nil {
			return fmt.Errorf("store: advisory unlock: %w", err)
		}
		return nil
	}, true, nil
}
