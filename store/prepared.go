package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"strings"
)

// Prepared ends the text of a statement that SQLite connections keep prepared (see
// stmtCache): the hot statements of the classification path carry it. Other statements are
// parsed for each call as before.
const Prepared = " /* prepared */"

// The SQLite driver parses a statement's text anew for every call that is not a prepared
// statement, and parsing costs about as much as running the short statements of the
// upload and classification paths. stmtCache keeps one connection's prepared statements by
// their text so each statement is parsed once per connection and then only bound, run and
// reset. A statement opts in by ending its text with Prepared; nothing else changes for it.
// PostgreSQL needs none of it: pgx caches prepared statements per connection already.
//
// A connection is used by one goroutine at a time (database/sql holds its lock around
// every driver call), so the cache needs no lock of its own.
type stmtCache struct {
	conn  driver.Conn
	items map[string]*list.Element // SQL text → element holding a *cachedStmt
	lru   *list.List               // most recently used first
}

// cachedStmt is a prepared statement and whether rows of it are still open: a statement
// can run once at a time, so a nested call with the same text prepares its own.
type cachedStmt struct {
	query   string
	stmt    driver.Stmt
	busy    bool
	evicted bool // left the cache while busy: closed when its rows close
}

const (
	// stmtCacheSize bounds the statements kept per connection: the hot paths use a few
	// dozen; texts built for a varying number of values (IN lists, batches) come and go.
	stmtCacheSize = 128
	// stmtCacheMaxLen leaves long texts (bulk inserts, migrations) to one-off preparing.
	stmtCacheMaxLen = 4096
)

func newStmtCache(conn driver.Conn) *stmtCache {
	return &stmtCache{conn: conn, items: map[string]*list.Element{}, lru: list.New()}
}

// get returns the cached statement for query, preparing it on first use, or nil when the
// text is not cached (too long, or its statement busy with open rows): the caller then
// runs it the ordinary way.
func (c *stmtCache) get(ctx context.Context, query string) (*cachedStmt, error) {
	if len(query) > stmtCacheMaxLen || !strings.HasSuffix(query, Prepared) {
		return nil, nil
	}
	if e, ok := c.items[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return cs, nil
	}
	st, err := c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, stmt: st}
	c.items[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		c.drop(c.lru.Back())
	}
	return cs, nil
}

// drop removes a statement from the cache and closes it, or, while rows of it are open,
// leaves the closing to them.
func (c *stmtCache) drop(e *list.Element) {
	cs := c.lru.Remove(e).(*cachedStmt)
	delete(c.items, cs.query)
	if cs.busy {
		cs.evicted = true
		return
	}
	_ = cs.stmt.Close()
}

// exec runs query through its cached statement; ok is false when it is not cached.
func (c *stmtCache) exec(ctx context.Context, query string, args []driver.NamedValue) (res driver.Result, ok bool, err error) {
	cs, err := c.get(ctx, query)
	if cs == nil || err != nil {
		return nil, err != nil, err
	}
	res, err = cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	return res, true, err
}

// query runs query through its cached statement, which stays busy until the rows close;
// ok is false when it is not cached.
func (c *stmtCache) query(ctx context.Context, query string, args []driver.NamedValue) (rows driver.Rows, ok bool, err error) {
	cs, err := c.get(ctx, query)
	if cs == nil || err != nil {
		return nil, err != nil, err
	}
	rows, err = cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, true, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, true, nil
}

// close finalizes every cached statement (before its connection closes).
func (c *stmtCache) close() {
	for c.lru.Len() > 0 {
		c.drop(c.lru.Front())
	}
}

// cachedRows frees its statement for the next call when it closes.
type cachedRows struct {
	driver.Rows
	cs     *cachedStmt
	closed bool
}

func (r *cachedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close()
	r.cs.busy = false
	if r.cs.evicted {
		if cerr := r.cs.stmt.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
