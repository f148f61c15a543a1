// Package store owns all SQL of DocuVault: users, sessions, tokens, quotas, documents,
// topics, the classification queue and the blob deletion outbox, on SQLite or Postgres.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// pageCacheKiB is the page cache of each SQLite connection, in KiB.
const pageCacheKiB = 256

// Dialects the store speaks.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Sentinel errors that handlers map to HTTP statuses in one place.
var (
	ErrNotFound      = errors.New("not found")
	ErrConflict      = errors.New("conflict")
	ErrQuotaExceeded = errors.New("quota exceeded")
	ErrLastAdmin     = errors.New("last active admin")
	ErrSchemaTooNew  = errors.New("database schema is newer than this binary")
	ErrInvalid       = errors.New("invalid")
	// ErrCredentialsChanged: the caller's credentials ended (password change, deactivation)
	// while its request was in flight.
	ErrCredentialsChanged = errors.New("credentials changed")
)

// Store is the database handle of one DocuVault instance.
type Store struct {
	db               pools
	dialect          string
	now              func() time.Time
	rankLimit        int       // see DefaultRankLimit
	prefixMergeLimit int       // see DefaultPrefixMergeLimit
	wordStats        wordStats // PostgreSQL's statistics of search words, see searchPrefix
	wrap             func(driver.Connector) driver.Connector
	// allowDuplicates keeps a second upload of the same bytes (see WithDuplicates).
	allowDuplicates bool
}

// Option changes how a Store is opened.
type Option func(*Store)

// WithClock makes the store read time from now (tests pin it).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithConnector wraps the driver's connector, e.g. to see every statement the store runs
// (tests check their query plans with it).
func WithConnector(wrap func(driver.Connector) driver.Connector) Option {
	return func(s *Store) { s.wrap = wrap }
}

// dsnConnector opens connections of a driver that has no connector of its own.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

// Open connects to the database named by driver ("sqlite" or "postgres") and dsn (a file
// path for SQLite, a URL for Postgres) and checks that it answers.
func Open(ctx context.Context, driver, dsn string, opts ...Option) (*Store, error) {
	s := &Store{dialect: driver, now: time.Now, rankLimit: DefaultRankLimit, prefixMergeLimit: DefaultPrefixMergeLimit}
	for _, o := range opts {
		o(s)
	}
	var err error
	switch driver {
	case SQLite:
		s.db, err = openSQLite(dsn, s.wrap)
	case Postgres:
		s.db.DB, err = openPostgres(dsn, s.wrap)
		if err == nil {
			s.db.SetMaxOpenConns(20)
			s.db.SetMaxIdleConns(10)
			s.db.SetConnMaxIdleTime(5 * time.Minute)
			s.db.w = s.db.DB
		}
	default:
		return nil, fmt.Errorf("store: unknown driver %q (want sqlite or postgres)", driver)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", driver, err)
	}
	if err := s.connect(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", driver, err)
	}
	return s, nil
}

// connect checks that the database answers. A new SQLite file that several processes open
// at once (replicas starting together) can answer SQLITE_BUSY while one of them switches it
// to WAL, a moment the busy timeout does not cover: that is waited out until ctx ends.
func (s *Store) connect(ctx context.Context) error {
	for {
		err := s.db.PingContext(ctx)
		if err == nil || s.dialect != SQLite || sqliteCode(err)&0xff != sqlite3.SQLITE_BUSY {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// openSQLite opens a file with busy_timeout first (so the other pragmas wait for locks),
// WAL, foreign keys, and IMMEDIATE transactions so a writer never fails to upgrade its lock.
// Reads get a pool of 8 connections (WAL lets them read while one writes; more would wait
// for the WAL's few reader slots); writes get one of their own (see pools), and checkpoints another
// (see checkpointer).
func openSQLite(path string, wrap func(driver.Connector) driver.Connector) (pools, error) {
	if path == "" {
		return pools{}, errors.New("empty path")
	}
	if !strings.HasPrefix(path, "file:") && path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return pools{}, err
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Checkpoints run in the background, not inside a commit (see checkpointer).
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	// Each connection keeps its own page cache on top of the operating system's cache of the
	// same file; SQLite's default of 2 MiB per connection, over the 9 connections, was most of
	// what a server's memory grew by after its first requests.
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -pageCacheKiB))
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(path, "file:") {
		// A plain path becomes a URI: its '%' and '#' would otherwise read as an escape and
		// the start of a fragment, and open another file than the one named.
		path = strings.NewReplacer("%", "%25", "#", "%23").Replace(path)
	}
	dsn := "file:" + strings.TrimPrefix(path, "file:") + sep + q.Encode()
	raw := dsnConnector{&sqlite.Driver{}, dsn}
	turns := newWriteTurns()
	var c driver.Connector = turnConnector{raw, turns}
	if wrap != nil {
		c = wrap(c)
	}
	reads := sql.OpenDB(c)
	reads.SetMaxOpenConns(8)
	// Idle connections stay open: each keeps its prepared statements (see stmtCache).
	reads.SetMaxIdleConns(8)
	writes := sql.OpenDB(c)
	writes.SetMaxOpenConns(1)
	writes.SetMaxIdleConns(1)
	return pools{DB: reads, w: writes, batch: newWriteBatcher(writes), ckpt: newCheckpointer(raw, turns).start()}, nil
}

// openPostgres opens a pool whose sessions plan every statement for its arguments
// (plan_cache_mode = force_custom_plan). pgx prepares statements, and after five runs
// PostgreSQL would switch to a generic plan that cannot see how common a search word is: a
// search for "the" then combines the GIN index's million entries instead of walking the
// user's newest documents. Planning a simple statement costs a few microseconds.
func openPostgres(dsn string, wrap func(driver.Connector) driver.Connector) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	if wrap != nil {
		return sql.OpenDB(wrap(stdlib.GetConnector(*cfg))), nil
	}
	return stdlib.OpenDB(*cfg), nil
}

// DB is the underlying pool (on SQLite the pool of reads; a write sent through it still
// takes its turn with the store's own writes).
func (s *Store) DB() *sql.DB { return s.db.DB }

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// Close closes the pools.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Now is the store's clock, truncated to what both databases keep.
func (s *Store) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// inTx runs fn in a transaction, committing when it returns nil. On SQLite, the
// transactions of concurrent requests commit together (see writeBatcher), and fn may run a
// second time, in a new transaction, when another request's function of the same batch
// failed: fn must set its results afresh each time (assign them, do not add to them) and
// do nothing outside the transaction.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.db.batch != nil {
		return s.db.batch.run(ctx, fn)
	}
	return runTx(ctx, s.db, fn)
}

// txStarter starts transactions: the store's pools, or one pool.
type txStarter interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// runTx runs fn in a transaction of db of its own, committing when it returns nil.
func runTx(ctx context.Context, db txStarter, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// notFound turns sql.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// nullTime is a helper for nullable timestamps.
func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}

func timePtr(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

// InvalidError is a request the data does not allow (an unknown topic, say); it matches ErrInvalid.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return "invalid: " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// newID makes a time-ordered UUID (v7), so rows created in the same instant still list in
// creation order.
func newID() string { return uuid.Must(uuid.NewV7()).String() }
