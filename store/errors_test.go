package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/docuvault/docuvault/store"
)

// errClass is how an error is classified.
type errClass struct{ unavailable, conflict, badInput bool }

type driverCase struct {
	name string
	err  error
	want errClass
}

// TestDriverErrorsTyped: driver errors are classified by their typed codes — SQLSTATE,
// SQLite result codes, driver.ErrBadConn, net errors, deadlines — and never by message
// text, so a message that merely reads like one is not taken for it.
func TestDriverErrorsTyped(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store: something: %w", err) }
	pg := func(code string) error { return wrap(&pgconn.PgError{Severity: "FATAL", Code: code, Message: "x"}) }
	type want struct{ unavailable, conflict, badInput bool }
	cases := []driverCase{
		{"pg unique violation", pg("23505"), errClass{conflict: true}},
		{"pg admin shutdown (terminated backend)", pg("57P01"), errClass{unavailable: true}},
		{"pg crash shutdown", pg("57P02"), errClass{unavailable: true}},
		{"pg cannot connect now (starting up)", pg("57P03"), errClass{unavailable: true}},
		{"pg connection failure", pg("08006"), errClass{unavailable: true}},
		{"pg too many connections", pg("53300"), errClass{unavailable: true}},
		{"pg NUL byte in text", pg("22021"), errClass{badInput: true}},
		{"pg untranslatable character", pg("22P05"), errClass{badInput: true}},
		{"pg syntax error is a bug", pg("42601"), errClass{}},
		{"pg foreign key violation is a bug", pg("23503"), errClass{}},
		{"bad connection", wrap(driver.ErrBadConn), errClass{unavailable: true}},
		{"net error", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}), errClass{unavailable: true}},
		{"deadline", wrap(context.DeadlineExceeded), errClass{unavailable: true}},
		{"a cancelled request is not a database failure", wrap(context.Canceled), errClass{}},
		{"text that reads like a unique violation", errors.New("ERROR: duplicate key (SQLSTATE 23505)"), errClass{}},
		{"text that reads like SQLite's", errors.New("UNIQUE constraint failed: topics.name"), errClass{}},
		{"text that reads like a lost connection", errors.New("dial tcp: connection refused"), errClass{}},
		{"text that reads like a locked database", errors.New("database is locked"), errClass{}},
		{"nil", nil, errClass{}},
	}

	// Real SQLite errors, with their extended result codes.
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE a (id TEXT PRIMARY KEY, n TEXT UNIQUE, m TEXT NOT NULL DEFAULT 'm')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO a (id, n) VALUES ('1', 'x')`); err != nil {
		t.Fatal(err)
	}
	_, uniq := db.Exec(`INSERT INTO a (id, n) VALUES ('2', 'x')`)
	_, pk := db.Exec(`INSERT INTO a (id, n) VALUES ('1', 'y')`)
	_, notNull := db.Exec(`INSERT INTO a VALUES ('4', 'z', NULL)`)
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin() // IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	_, busy := db.Exec(`INSERT INTO a (id, n) VALUES ('3', 'w')`)
	_ = tx.Rollback()
	cases = append(cases,
		driverCase{"sqlite unique", wrap(uniq), errClass{conflict: true}},
		driverCase{"sqlite primary key", wrap(pk), errClass{conflict: true}},
		driverCase{"sqlite busy", wrap(busy), errClass{unavailable: true}})
	if notNull == nil {
		t.Fatal("NOT NULL was not enforced")
	}
	cases = append(cases, driverCase{"sqlite NOT NULL is a bug, not a conflict", wrap(notNull), errClass{}})

	// A real connection failure of the PostgreSQL driver: nothing listens on the port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, connErr := store.Open(ctx, store.Postgres, "postgres://u:p@"+addr+"/db?sslmode=disable&connect_timeout=5")
	cases = append(cases, driverCase{"pg closed port", connErr, errClass{unavailable: true}})

	for _, c := range cases {
		got := errClass{store.IsUnavailable(c.err), store.IsConflict(c.err), store.IsBadInput(c.err)}
		if got != c.want {
			t.Errorf("%s (%v): got %+v, want %+v", c.name, c.err, got, c.want)
		}
	}
}
