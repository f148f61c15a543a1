package store_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/migrations"
	"github.com/docuvault/docuvault/store"
)

// TestMigration0003DownRevertsIsolation: reverting 0003 refuses while the deletion outbox
// holds keys (nothing is reverted), and once it is empty drops ix_topics_user_id and makes
// documents.user_id nullable again, on both databases, keeping documents and their topics.
func TestMigration0003DownRevertsIsolation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		d, err := s.CreatePending(ctx, u.ID, "a.txt", "text/plain", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmUpload(ctx, u.ID, d.ID, 5, ""); err != nil {
			t.Fatal(err)
		}
		topic, err := s.CreateTopic(ctx, &u.ID, "Mine", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().Exec(`INSERT INTO document_topics (document_id, topic_id, source) VALUES ($1, $2, 'user')`, d.ID, topic.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().Exec(`INSERT INTO blob_deletions (object_key) VALUES ('u/x/left-behind')`); err != nil {
			t.Fatal(err)
		}
		latest, _ := s.SchemaVersion(ctx)

		if err := s.MigrateTo(ctx, version0002); !errors.Is(err, store.ErrDeletionsPending) {
			t.Fatalf("down to 0002 with a key in the outbox: %v, want ErrDeletionsPending", err)
		}
		if v, _ := s.SchemaVersion(ctx); v != latest {
			t.Fatalf("refused migration still moved the schema to %s", v)
		}
		if err := s.MigrateTo(ctx, "0003-multi-user-isolation"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MigrateDownOne(ctx); !errors.Is(err, store.ErrDeletionsPending) {
			t.Fatalf("down one step from 0003 with a key in the outbox: %v, want ErrDeletionsPending", err)
		}
		// The SQL refuses as well, for whoever runs the file without the binary.
		fsys, _ := migrations.FS(s.Dialect())
		down, err := fs.ReadFile(fsys, "0003-multi-user-isolation.down.sql")
		if err != nil {
			t.Fatal(err)
		}
		tx, err := s.DB().Begin()
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(string(down))
		tx.Rollback()
		if err == nil || !strings.Contains(err.Error(), "blob_deletions still holds") {
			t.Fatalf("0003 down SQL with a key in the outbox: %v, want a refusal naming blob_deletions", err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM blob_deletions`); n != 1 {
			t.Fatalf("outbox lost its key: %d rows", n)
		}

		if _, err := s.DB().Exec(`DELETE FROM blob_deletions`); err != nil {
			t.Fatal(err)
		}
		v, err := s.MigrateDownOne(ctx)
		if err != nil || v != version0002 {
			t.Fatalf("down from 0003: %q %v", v, err)
		}
		idx := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_topics_user_id'`
		table := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'blob_deletions'`
		if s.Dialect() == store.Postgres {
			idx = `SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'ix_topics_user_id' AND schemaname = current_schema()`
			table = `SELECT COUNT(*) FROM pg_tables WHERE tablename = 'blob_deletions' AND schemaname = current_schema()`
		}
		if n := count(t, s, idx); n != 0 {
			t.Errorf("ix_topics_user_id still there")
		}
		if n := count(t, s, table); n != 0 {
			t.Errorf("blob_deletions still there")
		}
		if _, err := s.DB().Exec(`INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes, status, created_at)
			VALUES ('legacy', NULL, 'x', 'text/plain', 'legacy/x', 1, 'uploaded', $1)`, time.Now()); err != nil {
			t.Errorf("documents.user_id still NOT NULL: %v", err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM documents WHERE id = $1 AND user_id = $2`, d.ID, u.ID); n != 1 {
			t.Errorf("alice's document lost")
		}
		if n := count(t, s, `SELECT COUNT(*) FROM document_topics WHERE document_id = $1 AND topic_id = $2`, d.ID, topic.ID); n != 1 {
			t.Errorf("alice's document lost its topic")
		}
		if n := count(t, s, `SELECT COUNT(*) FROM document_topics`); n != 1 {
			t.Errorf("document_topics: %d rows, want 1", n)
		}

		// And up again: the ownerless document goes, alice's stays.
		if _, err := s.DB().Exec(`DELETE FROM documents WHERE id = 'legacy'`); err != nil {
			t.Fatal(err)
		}
		if err := s.MigrateUp(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
	})
}
