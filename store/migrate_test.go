package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

const version0002 = "0002-backup-codes-password-must-change"

// seed0002 fills a database at version 0002 the way the single-user product left it.
func seed0002(t *testing.T, s *store.Store, blobs blob.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	if _, err := blobs.Put(ctx, "legacy/doc0", strings.NewReader("orphan bytes"), 100, "text/plain"); err != nil {
		t.Fatal(err)
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO users (id, username, password_hash, role, is_active, totp_enabled, created_at, updated_at, password_must_change)
			VALUES ('u1', 'alice', 'h', 'user', TRUE, FALSE, $1, $1, FALSE), ('u2', 'bob', 'h', 'user', TRUE, FALSE, $1, $1, FALSE)`, []any{now}},
		{`INSERT INTO quotas (user_id, limit_bytes, used_bytes) VALUES ('u1', 1000000, 999), ('u2', 1000000, 5)`, nil},
		{`INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes, status, created_at)
			VALUES ('doc0', NULL, 'old.txt', 'text/plain', 'legacy/doc0', 12, 'classified', $1),
			       ('doc1', 'u1', 'mine.txt', 'text/plain', 'u/u1/doc1', 1234, 'uploaded', $1),
			       ('doc2', 'u1', 'more.txt', 'text/plain', 'u/u1/doc2', 66, 'classified', $1)`, []any{now}},
		{`INSERT INTO topics (id, user_id, name) VALUES ('t1', NULL, 'Finance'), ('t2', NULL, 'Health')`, nil},
		{`INSERT INTO document_topics (document_id, topic_id, source) VALUES ('doc0', 't1', 'ai'), ('doc1', 't2', 'ai')`, nil},
	}
	for _, st := range stmts {
		if _, err := s.DB().ExecContext(ctx, st.q, st.args...); err != nil {
			t.Fatalf("seed: %v\n%s", err, st.q)
		}
	}
}

func count(t *testing.T, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func blobStores(t *testing.T) map[string]func(t *testing.T) blob.Store {
	return map[string]func(t *testing.T) blob.Store{
		"local": func(t *testing.T) blob.Store {
			l, err := blob.NewLocal(t.TempDir(), []byte("0123456789abcdef0123456789abcdef"))
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		"minio": func(t *testing.T) blob.Store {
			s, err := blob.NewS3(context.Background(), testenv.MinIO(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

func TestMigration0003MultiUserIsolation(t *testing.T) {
	for _, dialect := range testenv.Dialects() {
		for name, mk := range blobStores(t) {
			t.Run(dialect+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				s := openTestStore(t, dialect)
				blobs := mk(t)
				if err := s.MigrateTo(ctx, version0002); err != nil {
					t.Fatal(err)
				}
				seed0002(t, s, blobs)

				if err := s.MigrateUpAndDrain(ctx, blobs); err != nil {
					t.Fatal(err)
				}

				if n := count(t, s, `SELECT COUNT(*) FROM documents WHERE id = 'doc0'`); n != 0 {
					t.Errorf("ownerless document still there")
				}
				if n := count(t, s, `SELECT COUNT(*) FROM documents WHERE id IN ('doc1', 'doc2')`); n != 2 {
					t.Errorf("owned documents: %d, want 2", n)
				}
				if n := count(t, s, `SELECT COUNT(*) FROM document_topics`); n != 0 {
					t.Errorf("document_topics left: %d", n)
				}
				if n := count(t, s, `SELECT COUNT(*) FROM topics`); n != 0 {
					t.Errorf("topics left: %d", n)
				}
				_, err := s.DB().Exec(`INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes, status, created_at)
					VALUES ('docx', NULL, 'x', 'text/plain', 'k/x', 1, 'uploaded', $1)`, time.Now())
				if err == nil {
					t.Errorf("a document without owner was accepted")
				}
				idx := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_topics_user_id'`
				if dialect == store.Postgres {
					idx = `SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'ix_topics_user_id' AND schemaname = current_schema()`
				}
				if n := count(t, s, idx); n != 1 {
					t.Errorf("ix_topics_user_id missing")
				}
				for user, want := range map[string]int{"u1": 1234 + 66, "u2": 0} {
					if n := count(t, s, `SELECT used_bytes FROM quotas WHERE user_id = $1`, user); n != want {
						t.Errorf("used_bytes of %s = %d, want %d", user, n, want)
					}
				}
				if _, err := blobs.Stat(ctx, "legacy/doc0"); !errors.Is(err, blob.ErrNotFound) {
					t.Errorf("orphan object still in the blob store: %v", err)
				}
				if n := count(t, s, `SELECT COUNT(*) FROM blob_deletions`); n != 0 {
					t.Errorf("outbox not drained: %d rows", n)
				}
			})
		}
	}
}

func TestMigration0003BlobStoreDown(t *testing.T) {
	for _, dialect := range testenv.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			s := openTestStore(t, dialect, store.WithClock(func() time.Time { return now }))
			blobs := blobStores(t)["local"](t)
			if err := s.MigrateTo(ctx, version0002); err != nil {
				t.Fatal(err)
			}
			seed0002(t, s, blobs)

			if err := s.MigrateUpAndDrain(ctx, brokenBlobs{}); err != nil {
				t.Fatalf("migration must commit while the blob store is down: %v", err)
			}
			if v, _ := s.SchemaVersion(ctx); !strings.HasPrefix(v, "0007") {
				t.Fatalf("schema at %q", v)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM blob_deletions WHERE object_key = 'legacy/doc0' AND attempts = 1 AND last_error <> ''`); n != 1 {
				t.Fatalf("key not kept in the outbox with its failure")
			}
			// Not due yet: the backoff holds it.
			if res, _ := s.DrainDeletions(ctx, blobs, 10); res.Deleted != 0 {
				t.Fatalf("drain ignored the backoff")
			}
			now = now.Add(time.Minute)
			res, err := s.DrainDeletions(ctx, blobs, 10)
			if err != nil || res.Deleted != 1 {
				t.Fatalf("later drain: %+v %v", res, err)
			}
			if _, err := blobs.Stat(ctx, "legacy/doc0"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("object still there after the drain: %v", err)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM blob_deletions`); n != 0 {
				t.Errorf("outbox not empty: %d", n)
			}
		})
	}
}

func TestMigrationsDownAndUp(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		versions, _ := s.Versions()
		for i := len(versions) - 1; i >= 0; i-- {
			v, err := s.MigrateDownOne(ctx)
			if err != nil {
				t.Fatalf("down from %s: %v", versions[i], err)
			}
			want := ""
			if i > 0 {
				want = versions[i-1]
			}
			if v != want {
				t.Fatalf("down to %q, want %q", v, want)
			}
		}
		if err := s.MigrateUp(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
	})
}

func TestRefusesNewerSchema(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		if _, err := s.DB().Exec(`UPDATE migrations SET version = '9999-from-the-future'`); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckSchema(context.Background()); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("CheckSchema: %v, want ErrSchemaTooNew", err)
		}
		if err := s.MigrateUp(context.Background()); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("MigrateUp: %v, want ErrSchemaTooNew", err)
		}
	})
}
