package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"time"
)

// errStepRaced means another process moved the schema between this one reading the version
// and applying the next step; the step was rolled back and the migration starts over.
var errStepRaced = errors.New("schema moved by another process")

// ErrDeletionsPending means a migration below 0003 would drop the deletion outbox while it
// still holds keys of objects not yet deleted from the blob store.
var ErrDeletionsPending = errors.New("deletion outbox not empty")

// versionOutbox is the migration that creates the deletion outbox (blob_deletions).
const versionOutbox = "0003-multi-user-isolation"

// downNotes are what an operator must know when a migration is reverted.
var downNotes = map[string]string{
	versionOutbox: "note: 0003 deleted the documents that had no owner (and their objects) and every topic when it ran; " +
		"reverting it does not bring them back: that deletion is one-way",
}

// DownNote is what reverting version cannot undo ("" when it undoes everything).
func DownNote(version string) string { return downNotes[version] }

// refuseOutboxLoss stops a migration from current down to target (below 0003, which drops
// blob_deletions) while the outbox still holds keys: their objects would never be deleted.
// The down SQL of 0003 checks the same, as a last line.
func (s *Store) refuseOutboxLoss(ctx context.Context, current, target string) error {
	if current < versionOutbox || target >= versionOutbox {
		return nil
	}
	n, err := s.PendingDeletions(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate down: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("store: migrate down to %q: %w: %d object(s) not yet deleted from the blob store; "+
			"drain it first (docuvault migrate up with the blob store reachable; docuvault migrate status shows what is left)",
			target, ErrDeletionsPending, n)
	}
	return nil
}

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
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
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
	var current string
	if err := tx.QueryRowContext(ctx, `SELECT version FROM migrations`+s.forUpdate()).Scan(&current); err != nil {
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
