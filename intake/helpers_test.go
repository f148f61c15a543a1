package intake_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a database, a blob store, the ingest path and a consume folder.
type fixture struct {
	dialect string
	dsn     string
	blobDir string
	dir     string
	store   *store.Store
	blobs   blob.Store
	ingest  *ingest.Service
}

// forEachDialect runs fn on SQLite and PostgreSQL with the local blob store, and on
// PostgreSQL with MinIO: every intake path stores its bytes through either store.
func forEachDialect(t *testing.T, fn func(t *testing.T, f *fixture)) {
	forEachLocal(t, fn)
	t.Run("postgres-minio", func(t *testing.T) { fn(t, newFixtureOn(t, store.Postgres, "minio")) })
}

// forEachLocal runs fn on both databases with the local blob store only (for tests that hand
// the blob folder to a child process).
func forEachLocal(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) { fn(t, newFixture(t, d)) })
	}
}

func newFixture(t *testing.T, dialect string) *fixture { return newFixtureOn(t, dialect, "local") }

func newFixtureOn(t *testing.T, dialect, blobKind string) *fixture {
	t.Helper()
	f := &fixture{dialect: dialect, dsn: testenv.DSN(t, dialect), blobDir: t.TempDir(), dir: t.TempDir()}
	f.store = openStore(t, dialect, f.dsn)
	if err := f.store.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	var err error
	if blobKind == "minio" {
		f.blobs, err = blob.NewS3(context.Background(), testenv.MinIO(t))
	} else {
		f.blobs, err = blob.NewLocal(f.blobDir, []byte("test-upload-secret-0123456789"))
	}
	if err != nil {
		t.Fatal(err)
	}
	f.ingest = newIngest(f.store, f.blobs)
	return f
}

func openStore(t *testing.T, dialect, dsn string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dialect, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newIngest(st *store.Store, bs blob.Store) *ingest.Service {
	return ingest.New(ingest.Options{Store: st, Blobs: bs, Logger: quiet, MaxUploadBytes: 1 << 20})
}

func (f *fixture) user(t *testing.T, name string, limit int64) store.User {
	t.Helper()
	u, err := f.store.CreateUser(context.Background(), store.NewUser{Username: name, PasswordHash: "x", Role: store.RoleUser, LimitBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// consumer builds a consumer on f's folder; the options default to a fake clock's.
func (f *fixture) consumer(t *testing.T, st *store.Store, o intake.ConsumeOptions) *intake.Consumer {
	t.Helper()
	o.Dir, o.Logger = f.dir, quiet
	if o.Store == nil {
		o.Store = st
	}
	if o.Ingest == nil {
		o.Ingest = f.ingest
	}
	c, err := intake.NewConsumer(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs c until the test ends.
func run(t *testing.T, c *intake.Consumer) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// documents lists u's committed documents by filename.
func (f *fixture) documents(t *testing.T, u store.User) map[string]int {
	t.Helper()
	rows, err := f.store.DB().Query(`SELECT filename FROM documents WHERE user_id = $1 AND status <> 'pending'`, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[n]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) claims(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.store.DB().QueryRow(`SELECT COUNT(*) FROM consume_claims`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond (the work happens in other goroutines or processes) until it holds.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// userFiles lists the files left in a user's folder, hidden ones apart.
func (f *fixture) userFiles(t *testing.T, username string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(f.dir, username))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Name()[0] != '.' {
			out = append(out, e.Name())
		}
	}
	return out
}
