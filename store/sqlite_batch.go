package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// SQLite commits one write transaction at a time, on the write pool's one connection. Under
// many concurrent requests each transaction paid for a commit of its own (its pages written
// to the WAL, the WAL index locked and unlocked) and for the wait between one transaction's
// end and the next one's start, while the next request's goroutine was woken and scheduled.
// The batcher runs the transactions of concurrent requests back to back in one SQLite
// transaction instead. A request waits until the commit of its batch, so it sees, and
// answers, only what was committed. A batch of one is an ordinary transaction.
//
// The functions of a batch run one after another in the shared transaction as they are.
// When one fails, what it wrote before it failed must not be kept while the others' work
// is: the transaction is rolled back and the batch runs again with each function in a
// savepoint of its own, so a function that fails is rolled back to its savepoint alone. (Not
// every batch runs so: a savepoint makes SQLite copy each page a function changes before
// changing it, and makes the full-text index write what it holds in memory at the start and
// end of each, a segment per request to merge later instead of one per batch.) A function
// may therefore run twice; see Store.inTx.

// maxBatch bounds the transactions committed together, so a request waits for a bounded
// number of others.
const maxBatch = 32

// errBatchAborted is the answer to the requests of a batch that SQLite rolled back as a
// whole (a full disk, an I/O error): nothing of theirs was kept.
var errBatchAborted = errors.New("store: the transaction was rolled back")

// batchOp is one request's transaction.
type batchOp struct {
	ctx      context.Context
	fn       func(*sql.Tx) error
	err      error
	panicked any // fn's panic, raised again in the request's goroutine
	done     chan struct{}
}

// writeBatcher is the goroutine that runs the store's transactions on SQLite.
type writeBatcher struct {
	db   *sql.DB // the write pool
	ops  chan *batchOp
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// onShared, if set, is told the size of each transaction shared by several requests
	// (tests see that batches form); onApart, if set, is told of each batch that runs again
	// with a savepoint for each request.
	onShared func(requests int)
	onApart  func()
}

func newWriteBatcher(db *sql.DB) *writeBatcher {
	b := &writeBatcher{db: db, ops: make(chan *batchOp), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

// run runs fn in a transaction, committed with the transactions of other requests that
// wait at the same time, and returns fn's error or the commit's.
func (b *writeBatcher) run(ctx context.Context, fn func(*sql.Tx) error) error {
	op := &batchOp{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case b.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stop:
		return errors.New("store: closed")
	}
	<-op.done // fn may still run: it writes the caller's variables, so the caller waits
	if op.panicked != nil {
		panic(op.panicked)
	}
	return op.err
}

// close stops the batcher after the batch under way; closing it again does nothing.
func (b *writeBatcher) close() {
	b.once.Do(func() { close(b.stop) })
	<-b.done
}

func (b *writeBatcher) loop() {
	defer close(b.done)
	batch := make([]*batchOp, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case op := <-b.ops:
			batch = append(batch, op)
		case <-b.stop:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case op := <-b.ops:
				batch = append(batch, op)
			default:
				break more
			}
		}
		b.commit(batch)
		for _, op := range batch {
			close(op.done)
		}
	}
}

// call runs an op's function, keeping a panic for its caller.
func (op *batchOp) call(tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			op.panicked = p
			err = fmt.Errorf("store: panic in a transaction: %v", p)
		}
	}()
	return op.fn(tx)
}

// commit runs the batch's live ops in one transaction and records each one's outcome.
func (b *writeBatcher) commit(batch []*batchOp) {
	live := batch[:0:0]
	for _, op := range batch {
		if op.err = op.ctx.Err(); op.err == nil {
			live = append(live, op)
		}
	}
	if len(live) == 0 {
		return
	}
	if len(live) == 1 { // an ordinary transaction, cancelled with its request
		op := live[0]
		op.err = runTx(op.ctx, b.db, op.call)
		return
	}
	if b.onShared != nil {
		b.onShared(len(live))
	}
	if b.runShared(live, false) {
		b.runShared(live, true)
	}
}

// runShared runs the ops' functions in one transaction and commits it. Its statements are
// not interrupted when their request ends (an interrupted write rolls back the whole
// transaction, the other requests' work with it); a request that ended before its turn is
// not run.
//
// Together (apart false) the functions run without savepoints. When one fails, the
// transaction is rolled back, what the functions answered is forgotten, and runShared
// returns true: the batch must run again apart. Apart, each function runs in a savepoint of
// its own, so one that fails is rolled back alone.
func (b *writeBatcher) runShared(live []*batchOp, apart bool) (again bool) {
	tx, err := b.db.BeginTx(context.WithValue(context.Background(), sharedTxKey{}, true), nil)
	if err != nil {
		failRest(live, err)
		return !apart
	}
	for i, op := range live {
		if op.err = op.ctx.Err(); op.err != nil {
			continue
		}
		if !apart {
			if op.err = op.call(tx); op.err != nil {
				_ = tx.Rollback()
				for _, o := range live {
					o.err, o.panicked = nil, nil
				}
				if b.onApart != nil {
					b.onApart()
				}
				return true
			}
			continue
		}
		if _, err = tx.Exec(`SAVEPOINT request`); err == nil {
			if op.err = op.call(tx); op.err != nil {
				_, err = tx.Exec(`ROLLBACK TO request`)
			}
			if err == nil {
				_, err = tx.Exec(`RELEASE request`)
			}
		}
		if err != nil { // SQLite rolled the whole transaction back: nothing is kept
			_ = tx.Rollback()
			failRest(live[:i+1], fmt.Errorf("%w: %w", errBatchAborted, err))
			b.commit(live[i+1:]) // the ones not run yet get a transaction of their own
			return false
		}
	}
	if err := tx.Commit(); err != nil {
		failRest(live, err)
	}
	return false
}

// failRest gives err to each op that has no error of its own.
func failRest(ops []*batchOp, err error) {
	for _, op := range ops {
		if op.err == nil {
			op.err = err
		}
	}
}

// sharedTxKey marks the context of a transaction that runs several requests' functions.
type sharedTxKey struct{}

// execer runs statements: a transaction, or the store's pools.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn, a single write statement: on SQLite in a transaction committed with those
// of other requests (see writeBatcher), on PostgreSQL on its own. A statement that matched
// no row (fn returns sql.ErrNoRows) wrote nothing: that answer is returned without making
// the batch run again apart, as a failure would.
func (s *Store) write(ctx context.Context, fn func(q execer) error) error {
	if s.db.batch == nil {
		return fn(s.db)
	}
	none := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := fn(tx)
		none = errors.Is(err, sql.ErrNoRows)
		if none {
			return nil
		}
		return err
	})
	if err == nil && none {
		return sql.ErrNoRows
	}
	return err
}
