package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// cacheConn pins one connection of a fresh SQLite store (the statement cache is per
// connection) with a table of the numbers 1..n.
func cacheConn(t *testing.T, n int) (*sql.DB, *sql.Conn) {
	t.Helper()
	s := newTestStore(t, store.SQLite)
	ctx := context.Background()
	if _, err := s.DB().ExecContext(ctx, `CREATE TABLE cache_probe (n INTEGER PRIMARY KEY, label TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO cache_probe (n, label) VALUES ($1, $2)`, i, fmt.Sprint("n", i)); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return s.DB(), conn
}

func sumOf(t *testing.T, rows *sql.Rows) int {
	t.Helper()
	defer rows.Close()
	sum := 0
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sum
}

// A statement whose rows are still open is not handed out again: the same text run inside
// the loop over its rows (one connection) gets a statement of its own, and neither result
// is cut short.
func TestStatementCacheNestedSameText(t *testing.T) {
	_, conn := cacheConn(t, 5)
	ctx := context.Background()
	const q = `SELECT n FROM cache_probe WHERE n <= $1 ORDER BY n` + store.Prepared
	outer, err := conn.QueryContext(ctx, q, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer outer.Close()
	seen, inner := 0, 0
	for outer.Next() {
		var n int
		if err := outer.Scan(&n); err != nil {
			t.Fatal(err)
		}
		seen += n
		rows, err := conn.QueryContext(ctx, q, n)
		if err != nil {
			t.Fatal(err)
		}
		inner += sumOf(t, rows)
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != 15 || inner != 1+3+6+10+15 {
		t.Fatalf("outer sum %d (want 15), inner sums %d (want 35)", seen, inner)
	}
	// Once closed, the cached statement serves again with new arguments.
	rows, err := conn.QueryContext(ctx, q, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := sumOf(t, rows); got != 3 {
		t.Fatalf("sum after reuse %d, want 3", got)
	}
}

// More texts than the cache holds: each answers correctly, also after it was evicted and
// prepared again, and rows kept open while their statement is evicted read to the end.
func TestStatementCacheEviction(t *testing.T) {
	_, conn := cacheConn(t, 10)
	ctx := context.Background()
	held, err := conn.QueryContext(ctx, `SELECT n FROM cache_probe ORDER BY n /* held */`+store.Prepared)
	if err != nil {
		t.Fatal(err)
	}
	if !held.Next() {
		t.Fatal("no first row")
	}
	// 300 other texts on the same connection while held is open: held's statement leaves
	// the cache busy, and is closed only when its rows close.
	for k := 0; k < 300; k++ {
		var n int
		q := fmt.Sprintf(`SELECT n FROM cache_probe WHERE n = $1 /* text %d */`, k) + store.Prepared
		if err := conn.QueryRowContext(ctx, q, 1+k%10).Scan(&n); err != nil || n != 1+k%10 {
			t.Fatalf("text %d: got %d, %v", k, n, err)
		}
	}
	sum := 1
	for held.Next() {
		var n int
		if err := held.Scan(&n); err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if sum != 55 {
		t.Fatalf("held rows summed to %d, want 55", sum)
	}
	for round := 0; round < 2; round++ {
		for k := 0; k < 300; k++ {
			var n int
			var label string
			q := fmt.Sprintf(`SELECT n, label FROM cache_probe WHERE n = $1 /* text %d */`, k) + store.Prepared
			want := 1 + k%10
			if err := conn.QueryRowContext(ctx, q, want).Scan(&n, &label); err != nil {
				t.Fatalf("round %d text %d: %v", round, k, err)
			}
			if n != want || label != fmt.Sprint("n", want) {
				t.Fatalf("round %d text %d: got %d %q, want %d", round, k, n, label, want)
			}
		}
	}
}

// A cached statement follows the schema: after its table is dropped and made again with
// other columns, the same text reads the new table.
func TestStatementCacheSchemaChange(t *testing.T) {
	_, conn := cacheConn(t, 3)
	ctx := context.Background()
	const q = `SELECT * FROM cache_probe WHERE n = $1` + store.Prepared
	var n int
	var label string
	if err := conn.QueryRowContext(ctx, q, 2).Scan(&n, &label); err != nil || label != "n2" {
		t.Fatalf("before: %q, %v", label, err)
	}
	for _, stmt := range []string{`DROP TABLE cache_probe`,
		`CREATE TABLE cache_probe (n INTEGER PRIMARY KEY, label TEXT NOT NULL, extra TEXT NOT NULL)`,
		`INSERT INTO cache_probe VALUES (2, 'two', 'more')`} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	var extra string
	if err := conn.QueryRowContext(ctx, q, 2).Scan(&n, &label, &extra); err != nil || label != "two" || extra != "more" {
		t.Fatalf("after: %q %q, %v", label, extra, err)
	}
}

// A statement that failed (a constraint, a cancelled context) serves the next call.
func TestStatementCacheAfterErrors(t *testing.T) {
	_, conn := cacheConn(t, 3)
	ctx := context.Background()
	const ins = `INSERT INTO cache_probe (n, label) VALUES ($1, $2)` + store.Prepared
	if _, err := conn.ExecContext(ctx, ins, 1, "again"); err == nil {
		t.Fatal("duplicate key inserted")
	}
	if _, err := conn.ExecContext(ctx, ins, 4, "n4"); err != nil {
		t.Fatalf("insert after a failed one: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	const sel = `SELECT label FROM cache_probe WHERE n = $1` + store.Prepared
	var label string
	if err := conn.QueryRowContext(cancelled, sel, 4).Scan(&label); err == nil {
		t.Fatal("query ran with a cancelled context")
	}
	if err := conn.QueryRowContext(ctx, sel, 4).Scan(&label); err != nil || label != "n4" {
		t.Fatalf("query after a cancelled one: %q, %v", label, err)
	}
	// A text that does not prepare is an error each time, never a cached statement.
	for range 2 {
		if _, err := conn.ExecContext(ctx, `INSERT INTO no_such_table VALUES ($1)`+store.Prepared, 1); err == nil {
			t.Fatal("statement on a missing table ran")
		}
	}
}

// Writers and readers on all connections of the pool at once run the same texts: every
// write counts and every read sees a consistent total.
func TestStatementCacheConcurrent(t *testing.T) {
	db, conn := cacheConn(t, 0)
	conn.Close()
	ctx := context.Background()
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := w*each + i + 1
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO cache_probe (n, label) VALUES ($1, $2)`+store.Prepared, n, "x"); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
				var got int
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cache_probe WHERE n <= $1 AND n = $1`+store.Prepared, n).Scan(&got); err != nil || got != 1 {
					errs <- fmt.Errorf("row %d: count %d, %v", n, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cache_probe`).Scan(&total); err != nil || total != workers*each {
		t.Fatalf("rows %d, want %d (%v)", total, workers*each, err)
	}
}
