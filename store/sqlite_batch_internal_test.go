package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// openBatchTest opens a SQLite file with a table of numbers and counts the transactions its
// batcher commits for several requests at once.
func openBatchTest(t *testing.T) (*Store, *sharedCounter) {
	t.Helper()
	s, err := Open(context.Background(), SQLite, filepath.Join(t.TempDir(), "batch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.db.w.Exec(`CREATE TABLE numbers (n INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	c := &sharedCounter{}
	s.db.batch.onShared = c.add
	s.db.batch.onApart = c.apart
	return s, c
}

type sharedCounter struct {
	mu      sync.Mutex
	batches int
	largest int
	again   int // batches run again with a savepoint for each request
}

func (c *sharedCounter) apart() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.again++
}

func (c *sharedCounter) add(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	c.largest = max(c.largest, n)
}

// concurrently runs fn(0) … fn(n-1) each on a goroutine of its own and waits for them all.
func concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}

func numbers(t *testing.T, s *Store) map[int]bool {
	t.Helper()
	rows, err := s.db.Query(`SELECT n FROM numbers`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]bool{}
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got[n] = true
	}
	return got
}

// TestBatchKeepsEachRequestApart: 200 requests write at once, each two rows in one
// transaction; every third fails after its first row (a refused quota, say), one fails on
// a row that is already there, one panics. Each failed request's rows are gone, every other
// request's rows are there, and the requests did share transactions.
func TestBatchKeepsEachRequestApart(t *testing.T) {
	s, shared := openBatchTest(t)
	if _, err := s.db.w.Exec(`INSERT INTO numbers (n) VALUES (-1)`); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	const n = 200
	errs := make([]error, n)
	panics := make([]any, n)
	concurrently(n, func(i int) {
		defer func() { panics[i] = recover() }()
		errs[i] = s.inTx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO numbers (n) VALUES (?)`, 2*i); err != nil {
				return err
			}
			second := 2*i + 1
			switch {
			case i%3 == 0:
				return refused
			case i == 7:
				second = -1
			case i == 11:
				panic("request 11")
			}
			_, err := tx.Exec(`INSERT INTO numbers (n) VALUES (?)`, second)
			return err
		})
	})
	got := numbers(t, s)
	for i := range n {
		failed := i%3 == 0 || i == 7 || i == 11
		switch {
		case i == 11:
			if panics[i] != "request 11" {
				t.Errorf("request 11: panic %v, want it raised in its own goroutine", panics[i])
			}
		case i == 7:
			if !isUniqueViolation(errs[i]) {
				t.Errorf("request 7: %v, want its unique violation", errs[i])
			}
		case i%3 == 0:
			if !errors.Is(errs[i], refused) {
				t.Errorf("request %d: %v, want its own error", i, errs[i])
			}
		default:
			if errs[i] != nil || panics[i] != nil {
				t.Errorf("request %d: %v %v", i, errs[i], panics[i])
			}
		}
		if got[2*i] == failed || (i != 7 && got[2*i+1] == failed) {
			t.Errorf("request %d (failed %v): rows %v %v", i, failed, got[2*i], got[2*i+1])
		}
	}
	if !got[-1] || len(got) != 1+2*(n-n/3-1-2) {
		t.Errorf("%d rows", len(got))
	}
	if shared.batches == 0 {
		t.Fatal("no transaction was shared by several requests: the test did not test batching")
	}
	if shared.again == 0 {
		t.Fatal("no batch ran again apart: the failures did not share a transaction")
	}
	t.Logf("%d shared transactions, the largest of %d requests, %d run again apart", shared.batches, shared.largest, shared.again)
}

// TestBatchWithoutFailuresRunsEachOnce: when no request of a batch fails, the batch runs
// without savepoints and each request's function runs once; when one fails, the batch runs
// again apart, its other functions a second time, and each of their rows is there once.
func TestBatchWithoutFailuresRunsEachOnce(t *testing.T) {
	s, shared := openBatchTest(t)
	const n = 200
	var mu sync.Mutex
	runs := map[int]int{}
	concurrently(n, func(i int) {
		err := s.inTx(context.Background(), func(tx *sql.Tx) error {
			mu.Lock()
			runs[i]++
			mu.Unlock()
			_, err := tx.Exec(`INSERT INTO numbers (n) VALUES (?)`, i)
			return err
		})
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	})
	if shared.batches == 0 {
		t.Fatal("no transaction was shared by several requests")
	}
	for i := range n {
		if runs[i] != 1 {
			t.Errorf("request %d ran %d times", i, runs[i])
		}
	}
	if shared.again != 0 || len(numbers(t, s)) != n {
		t.Fatalf("%d batches run again, %d rows", shared.again, len(numbers(t, s)))
	}

	// One request of every batch fails: the others of its batch run twice, and keep one row.
	clear(runs)
	concurrently(n, func(i int) {
		err := s.inTx(context.Background(), func(tx *sql.Tx) error {
			mu.Lock()
			runs[i]++
			mu.Unlock()
			if _, err := tx.Exec(`INSERT INTO numbers (n) VALUES (?)`, n+i); err != nil {
				return err
			}
			if i%10 == 0 {
				return errors.New("refused")
			}
			return nil
		})
		if (err != nil) != (i%10 == 0) {
			t.Errorf("request %d: %v", i, err)
		}
	})
	got := numbers(t, s)
	twice := 0
	for i := range n {
		if got[n+i] != (i%10 != 0) {
			t.Errorf("request %d: row %v", i, got[n+i])
		}
		if runs[i] == 2 {
			twice++
		}
	}
	if shared.again == 0 || twice == 0 {
		t.Fatalf("%d batches run again, %d functions run twice", shared.again, twice)
	}
}

// TestBatchSkipsEndedRequests: a request whose context ends while it waits is not run; one
// that ends its own context while it runs fails alone, and its neighbours commit.
func TestBatchSkipsEndedRequests(t *testing.T) {
	s, shared := openBatchTest(t)
	const n = 100
	errs := make([]error, n)
	concurrently(n, func(i int) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errs[i] = s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO numbers (n) VALUES (?)`, i); err != nil {
				return err
			}
			if i%4 == 0 {
				cancel()
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO numbers (n) VALUES (?)`, 1000+i)
			return err
		})
	})
	got := numbers(t, s)
	for i := range n {
		ok := i%4 != 0
		if (errs[i] == nil) != ok {
			t.Errorf("request %d: %v", i, errs[i])
		}
		if !ok && !errors.Is(errs[i], context.Canceled) {
			t.Errorf("request %d: %v, want its cancellation", i, errs[i])
		}
		if got[i] != ok || got[1000+i] != ok {
			t.Errorf("request %d (ok %v): rows %v %v", i, ok, got[i], got[1000+i])
		}
	}
	if shared.batches == 0 {
		t.Fatal("no transaction was shared by several requests")
	}
}

// TestBatchAbortedWholeRunsTheRestAgain: when SQLite rolls a shared transaction back as a
// whole, the requests already run in it fail (nothing of theirs is kept) and the ones not
// yet run get a transaction of their own.
func TestBatchAbortedWholeRunsTheRestAgain(t *testing.T) {
	s, _ := openBatchTest(t)
	b := s.db.batch
	var ops []*batchOp
	for i := range 3 {
		ops = append(ops, &batchOp{ctx: context.Background(), done: make(chan struct{}), fn: func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO numbers (n) VALUES (?)`, i); err != nil {
				return err
			}
			if i == 1 { // as a full disk would: the transaction ends under the savepoint
				if _, err := tx.Exec(`ROLLBACK`); err != nil {
					return fmt.Errorf("rollback: %w", err)
				}
				return errors.New("disk full")
			}
			return nil
		}})
	}
	b.commit(ops)
	if !errors.Is(ops[0].err, errBatchAborted) || ops[1].err == nil || ops[2].err != nil {
		t.Fatalf("outcomes: %v / %v / %v", ops[0].err, ops[1].err, ops[2].err)
	}
	if got := numbers(t, s); got[0] || got[1] || !got[2] || len(got) != 1 {
		t.Fatalf("rows %v, want only the one of the request run again", got)
	}
}

// TestBatchClosedTwice: a store closed twice (a deferred Close after an explicit one) does not
// panic, and a transaction after the close fails instead of waiting forever.
func TestBatchClosedTwice(t *testing.T) {
	s, _ := openBatchTest(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.inTx(context.Background(), func(*sql.Tx) error { return nil }); err == nil {
		t.Fatal("a transaction on a closed store succeeded")
	}
}

// TestBatchNoRowIsAnAnswer: a single write statement that matches no row (a used upload URL,
// say) answers sql.ErrNoRows to its request without making its batch run again apart; the
// other requests' rows are there once.
func TestBatchNoRowIsAnAnswer(t *testing.T) {
	s, shared := openBatchTest(t)
	const n = 200
	errs := make([]error, n)
	concurrently(n, func(i int) {
		errs[i] = s.write(context.Background(), func(q execer) error {
			var got int
			if i%2 == 0 {
				return q.QueryRowContext(context.Background(), `UPDATE numbers SET n = n WHERE n = -5 RETURNING n`).Scan(&got)
			}
			_, err := q.ExecContext(context.Background(), `INSERT INTO numbers (n) VALUES (?)`, i)
			return err
		})
	})
	got := numbers(t, s)
	for i := range n {
		if i%2 == 0 && !errors.Is(errs[i], sql.ErrNoRows) || i%2 == 1 && (errs[i] != nil || !got[i]) {
			t.Errorf("request %d: %v, row %v", i, errs[i], got[i])
		}
	}
	if shared.batches == 0 {
		t.Fatal("no transaction was shared by several requests")
	}
	if shared.again != 0 || len(got) != n/2 {
		t.Fatalf("%d batches run again apart, %d rows", shared.again, len(got))
	}
}
