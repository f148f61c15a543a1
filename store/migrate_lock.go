package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
)

// errStepRaced means another process moved the schema between this one reading the version
// and applying the next step; the step was rolled back and the migration starts over.
var errStepRaced = errors.New("schema moved by another process")

// advisoryKey turns a lock name into a Postgres advisory lock key.
func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("docuvault:" + name))
	return int64(h.Sum64())
}

// withMigrationLock runs fn while this process holds the database-wide migration lock. On
// Postgres that is a session advisory lock, keyed by the schema the tables live in, taken on
// a connection of its own and held until fn returns: replicas that start together migrate one
// after the other. SQLite needs no session lock: each step runs in an IMMEDIATE transaction,
// which holds the database's write lock, and checkStep refuses a step another process has
// already applied.
func (s *Store) withMigrationLock(ctx context.Context, fn func() error) error {
	if s.dialect != Postgres {
		return fn()
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	var schema string
	if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		conn.Close()
		return fmt.Errorf("store: migration lock: %w", err)
	}
	key := advisoryKey("migrate:" + schema)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		conn.Close()
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// Never hand a connection that may still hold the lock back to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}()
	return fn()
}

// checkStep runs first in each migration step's transaction: the database must be at the
// version the step starts from (for an up step to version, the one before it; for a down
// step to version, the one after it). Postgres reads the row FOR UPDATE, so a step committed
// meanwhile by a process without the lock is seen, not missed.
func (s *Store) checkStep(ctx context.Context, tx *sql.Tx, known []string, version string, up bool) error {
	q := `SELECT version FROM migrations`
	if s.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var current string
	if err := tx.QueryRowContext(ctx, q).Scan(&current); err != nil {
		return fmt.Errorf("store: migration version: %w", err)
	}
	i := sort.SearchStrings(known, version) // version is "" or one of known
	want := ""
	switch {
	case up && i > 0:
		want = known[i-1]
	case !up && version == "":
		want = known[0]
	case !up && i+1 < len(known):
		want = known[i+1]
	}
	if current != want {
		return fmt.Errorf("%w: step to %q expects %q, database at %q", errStepRaced, version, want, current)
	}
	return nil
}

// retryRaced runs a migration again after another process applied a step first; each retry
// starts from a newer version, so the number of steps bounds the retries.
func retryRaced(ctx context.Context, migrate func() error) error {
	for attempt := 0; ; attempt++ {
		err := migrate()
		if !errors.Is(err, errStepRaced) || attempt >= 100 || ctx.Err() != nil {
			return err
		}
	}
}
