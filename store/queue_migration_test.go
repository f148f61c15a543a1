package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// TestMigration0021QueuesLegacyUploads: a document uploaded before 0005 added
// next_attempt_at waits in the queue with none; the claim now reads the queue in
// next_attempt_at order from a partial index, and the migration makes such a document due
// since its upload, so it is still claimed (first: it waited longest), the others after it.
func TestMigration0021QueuesLegacyUploads(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := openTestStore(t, d)
			if err := s.MigrateTo(ctx, "0020-upload-functions"); err != nil {
				t.Fatal(err)
			}
			u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
			old := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
			if _, err := s.DB().ExecContext(ctx, `INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes, status, created_at, uploaded_at, next_attempt_at)
				VALUES ('legacy', $1, 'old.txt', 'text/plain', 'u/legacy', 3, 'uploaded', $2, NULL, NULL)`, u.ID, old); err != nil {
				t.Fatal(err)
			}
			if err := s.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			fresh, err := s.CreatePending(ctx, u.ID, "new.txt", "text/plain", 3)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ConfirmUpload(ctx, u.ID, fresh.ID, 3, ""); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"legacy", fresh.ID} {
				j, err := s.ClaimNext(ctx, time.Minute)
				if err != nil || j.DocumentID != want {
					t.Fatalf("claimed %q (%v), want %q", j.DocumentID, err, want)
				}
			}
			if _, err := s.ClaimNext(ctx, time.Minute); err == nil {
				t.Fatal("a third document claimed")
			}
		})
	}
}
