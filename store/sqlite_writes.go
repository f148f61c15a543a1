package store

import (
	"context"
	"database/sql/driver"
	"strings"
)

// SQLite lets one connection write at a time; the others wait in its busy handler, which
// sleeps 1, 2, 5, 10… ms between tries, so under many concurrent writers most of the time
// goes to sleeping while the lock is already free. writeTurns makes the process's own
// connections take turns in Go instead: a write transaction (every transaction is
// IMMEDIATE) or a write statement outside one waits on a channel and starts the moment the
// previous one ends. Other processes on the same file still meet the busy handler. Each
// turn given back after a write wakes the checkpointer (see checkpointer).
type writeTurns struct {
	turn  chan struct{}
	wrote chan struct{} // a write ended since the checkpointer last looked
}

func newWriteTurns() writeTurns {
	return writeTurns{turn: make(chan struct{}, 1), wrote: make(chan struct{}, 1)}
}

func (w writeTurns) take(ctx context.Context) error {
	select {
	case w.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w writeTurns) give() {
	<-w.turn
	select {
	case w.wrote <- struct{}{}:
	default:
	}
}

// turnConnector hands out connections that take a write turn.
type turnConnector struct {
	inner driver.Connector
	turns writeTurns
}

func (c turnConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &turnConn{Conn: conn, turns: c.turns, stmts: newStmtCache(conn)}, nil
}

func (c turnConnector) Driver() driver.Driver { return c.inner.Driver() }

// turnConn is a SQLite connection that takes a write turn for each transaction and each
// write statement outside a transaction, and runs statements through its statement cache.
type turnConn struct {
	driver.Conn
	turns  writeTurns
	inTx   bool
	shared bool // the transaction runs several requests' functions (see writeBatcher)
	stmts  *stmtCache
}

// statementContext is the context a statement runs under: in a shared transaction, not
// cancelled with its request (see writeBatcher).
func (c *turnConn) statementContext(ctx context.Context) context.Context {
	if c.shared {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// writes says whether a statement outside a transaction may write.
func writes(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "INSERT", "UPDATE", "DELETE", "REPLAC":
		return true
	}
	return strings.EqualFold(q[:4], "WITH")
}

func (c *turnConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	if err := c.turns.take(ctx); err != nil {
		return nil, err
	}
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, o)
	if err != nil {
		c.turns.give()
		return nil, err
	}
	c.inTx = true
	c.shared, _ = ctx.Value(sharedTxKey{}).(bool)
	return &turnTx{Tx: tx, c: c}, nil
}

func (c *turnConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	ctx = c.statementContext(ctx)
	if !c.inTx && writes(q) {
		if err := c.turns.take(ctx); err != nil {
			return nil, err
		}
		defer c.turns.give()
	}
	if res, ok, err := c.stmts.exec(ctx, q, args); ok {
		return res, err
	}
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *turnConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	ctx = c.statementContext(ctx)
	if c.inTx || !writes(q) {
		return c.query(ctx, q, args)
	}
	if err := c.turns.take(ctx); err != nil {
		return nil, err
	}
	rows, err := c.query(ctx, q, args)
	if err != nil {
		c.turns.give()
		return nil, err
	}
	return &turnRows{Rows: rows, turns: c.turns}, nil // a RETURNING writes until its rows close
}

// query runs q through the statement cache, or the ordinary way when it is not cached.
func (c *turnConn) query(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if rows, ok, err := c.stmts.query(ctx, q, args); ok {
		return rows, err
	}
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

// Close finalizes the cached statements before the connection closes.
func (c *turnConn) Close() error {
	c.stmts.close()
	return c.Conn.Close()
}

func (c *turnConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (c *turnConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *turnConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *turnConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

// turnTx gives the turn back when the transaction ends.
type turnTx struct {
	driver.Tx
	c *turnConn
}

func (t *turnTx) end(err error) error {
	t.c.inTx, t.c.shared = false, false
	t.c.turns.give()
	return err
}

func (t *turnTx) Commit() error   { return t.end(t.Tx.Commit()) }
func (t *turnTx) Rollback() error { return t.end(t.Tx.Rollback()) }

// turnRows gives the turn back when the rows of a write statement close.
type turnRows struct {
	driver.Rows
	turns writeTurns
	done  bool
}

func (r *turnRows) Close() error {
	err := r.Rows.Close()
	if !r.done {
		r.done = true
		r.turns.give()
	}
	return err
}
