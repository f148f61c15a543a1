package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// TestReconcileRacesConfirm runs the quota reconciliation against confirms in flight, round
// after round, with drift planted before each round so that the reconciliation writes: every
// confirmed byte stays charged (a write based on a sum read before a confirm committed would
// drop that confirm's charge) and used_bytes ends equal to the confirmed sizes.
func TestReconcileRacesConfirm(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<40)
		rounds := 40
		if testing.Short() {
			rounds = 10
		}
		const confirms = 8
		var charged int64
		for round := 0; round < rounds; round++ {
			ids := make([]string, confirms)
			for i := range ids {
				d, err := s.CreatePending(ctx, u.ID, "f.bin", "application/octet-stream", 0)
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = d.ID
			}
			// Drift for the reconciliation to find.
			if _, err := s.DB().ExecContext(ctx, `UPDATE quotas SET used_bytes = used_bytes + 7 WHERE user_id = $1`, u.ID); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, id := range ids {
				size := int64(1000*(round+1) + i)
				charged += size
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if _, err := s.ConfirmUpload(ctx, u.ID, id, size, ""); err != nil {
						t.Errorf("confirm: %v", err)
					}
				}()
			}
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if _, err := s.ReconcileQuotas(ctx); err != nil {
						t.Errorf("reconcile: %v", err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if t.Failed() {
				t.FailNow()
			}
			var sum int64
			if err := s.DB().QueryRow(`SELECT COALESCE(SUM(size_bytes), 0) FROM documents WHERE user_id = $1 AND status <> 'pending'`, u.ID).Scan(&sum); err != nil {
				t.Fatal(err)
			}
			q, err := s.QuotaOf(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if sum != charged || q.UsedBytes != charged {
				t.Fatalf("round %d: used_bytes %d, confirmed documents hold %d, confirms charged %d (%d bytes lost)",
					round, q.UsedBytes, sum, charged, charged-q.UsedBytes)
			}
		}
	})
}
