package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// TestReconcileListCountersRacesTrash plants drift in the trash and list counters, then runs
// the reconciliation against trash and restore moves in flight, round after round, on both
// databases: the counters end equal to the documents, no move lost.
func TestReconcileListCountersRacesTrash(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<40)
		var ids []string
		for i := 0; i < 8; i++ {
			ids = append(ids, confirmed(t, s, u.ID, fmt.Sprintf("d%d", i), int64(10+i)).ID)
		}
		for round := 0; round < 6; round++ {
			if _, err := s.DB().ExecContext(ctx, `UPDATE quotas SET trash_bytes = trash_bytes + 5, document_count = document_count + 2,
				trash_count = trash_count + 1 WHERE user_id = $1`, u.ID); err != nil {
				t.Fatal(err)
			}
			errs := testenv.Together(len(ids)+1, func(i int) error {
				if i == len(ids) {
					_, err := s.ReconcileListCounters(ctx)
					return err
				}
				var err error
				if (i+round)%2 == 0 {
					_, err = s.TrashDocument(ctx, u.ID, ids[i])
				} else {
					_, err = s.RestoreDocument(ctx, u.ID, ids[i])
				}
				return err
			})
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			q, err := s.QuotaOf(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			var trashBytes, trashed int64
			for i := range ids {
				if (i+round)%2 == 0 {
					trashBytes += int64(10 + i)
					trashed++
				}
			}
			if q.TrashBytes != trashBytes || q.TrashCount != trashed || q.DocumentCount != int64(len(ids))-trashed {
				t.Fatalf("round %d: counters %+v, want %d bytes and %d of %d in the trash", round, q, trashBytes, trashed, len(ids))
			}
		}
	})
}
