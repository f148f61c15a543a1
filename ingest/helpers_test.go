package ingest_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// fixture is one fresh database and blob store with an ingest service over them.
type fixture struct {
	store *store.Store
	blobs blob.Store
	svc   *ingest.Service
	queue *recordingQueue
	opts  ingest.Options
}

// recordingQueue remembers the documents it was told about.
type recordingQueue struct {
	mu  sync.Mutex
	ids []string
}

func (q *recordingQueue) NotifyDocument(id, _ string) { q.mu.Lock(); q.ids = append(q.ids, id); q.mu.Unlock() }
func (q *recordingQueue) count() int                  { q.mu.Lock(); defer q.mu.Unlock(); return len(q.ids) }

// forEachCombination runs fn on every database, with the local blob store, and on SQLite
// with MinIO as well.
func forEachCombination(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, d := range testenv.Dialects() {
		for _, b := range []string{"local", "minio"} {
			if d == "postgres" && b == "minio" {
				continue // the blob store's part does not depend on the database
			}
			t.Run(d+"/"+b, func(t *testing.T) { fn(t, newFixture(t, d, b)) })
		}
	}
}

func newFixture(t *testing.T, dialect, blobKind string, opts ...func(*ingest.Options)) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dialect, testenv.DSN(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	return newFixtureOn(t, st, newBlobs(t, blobKind), opts...)
}

func newBlobs(t *testing.T, kind string) blob.Store {
	t.Helper()
	var bs blob.Store
	var err error
	switch kind {
	case "local":
		bs, err = blob.NewLocal(t.TempDir(), []byte("test-upload-secret-0123456789"))
	case "minio":
		bs, err = blob.NewS3(context.Background(), testenv.MinIO(t))
	}
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func newFixtureOn(t *testing.T, st *store.Store, bs blob.Store, opts ...func(*ingest.Options)) *fixture {
	q := &recordingQueue{}
	o := ingest.Options{Store: st, Blobs: bs, Queue: q, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxUploadBytes: 1 << 20}
	for _, f := range opts {
		f(&o)
	}
	return &fixture{store: st, blobs: bs, svc: ingest.New(o), queue: q, opts: o}
}

func (f *fixture) user(t *testing.T, name string, limit int64) store.User {
	t.Helper()
	u, err := f.store.CreateUser(context.Background(), store.NewUser{Username: name, PasswordHash: "x", Role: store.RoleUser, LimitBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// objectCount counts the objects the blob store holds.
func (f *fixture) objectCount(t *testing.T) int {
	t.Helper()
	n := 0
	if err := f.blobs.List(context.Background(), "", func(blob.Info) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
