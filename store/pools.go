package store

import (
	"context"
	"database/sql"
	"errors"
)

// pools is the store's database. SQLite lets one connection write at a time: a write
// waiting for its turn (see writeTurns) would hold one of the pool's connections while it
// waits, and under many concurrent uploads the waiting writes held them all, so reads (a
// session, a list) queued behind writes they did not need. On SQLite, transactions (all of
// them IMMEDIATE, that is writes) and write statements therefore go to a pool of one
// connection of their own, where they queue without a connection, and reads to the other
// pool. On PostgreSQL both are the same pool.
type pools struct {
	*sql.DB               // reads; everything on PostgreSQL
	w       *sql.DB       // transactions and write statements
	batch   *writeBatcher // SQLite: the transactions (see writeBatcher)
	ckpt    *checkpointer // SQLite: the background checkpoints
}

// BeginTx starts a transaction on the writes' pool.
func (p pools) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return p.w.BeginTx(ctx, opts)
}

// ExecContext runs a write statement on the writes' pool, anything else on the reads'.
func (p pools) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.pick(query).ExecContext(ctx, query, args...)
}

// QueryContext runs a write statement (UPDATE … RETURNING) on the writes' pool, anything
// else on the reads'.
func (p pools) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.pick(query).QueryContext(ctx, query, args...)
}

// QueryRowContext is QueryContext for one row.
func (p pools) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.pick(query).QueryRowContext(ctx, query, args...)
}

func (p pools) pick(query string) *sql.DB {
	if p.w != p.DB && writes(query) {
		return p.w
	}
	return p.DB
}

// Close stops the checkpoints and closes both pools.
func (p pools) Close() error {
	var err error
	if p.batch != nil {
		p.batch.close()
	}
	if p.ckpt != nil {
		err = p.ckpt.close()
	}
	err = errors.Join(err, p.DB.Close())
	if p.w != nil && p.w != p.DB {
		err = errors.Join(err, p.w.Close())
	}
	return err
}
