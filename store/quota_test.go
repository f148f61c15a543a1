package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// TestQuotaRaceStress confirms 64 documents of 10 MiB at once against a 100 MiB quota, 100
// times, while the previous round's documents are deleted: exactly 10 are granted when the
// quota starts empty, and used_bytes always equals the stored sizes.
func TestQuotaRaceStress(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 100<<20)
		rounds := 100
		if testing.Short() {
			rounds = 10
		}
		const size = 10 << 20
		var previous []string
		for round := 0; round < rounds; round++ {
			ids := make([]string, 64)
			for i := range ids {
				d, err := s.CreatePending(ctx, u.ID, "f.bin", "application/octet-stream", 0)
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = d.ID
			}
			var granted atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := s.ConfirmUpload(ctx, u.ID, id, size, "")
					switch {
					case err == nil:
						granted.Add(1)
					case errors.Is(err, store.ErrQuotaExceeded):
					default:
						t.Errorf("confirm: %v", err)
					}
				}()
			}
			// Odd rounds delete the previous round's documents while the confirms run.
			deleting := round%2 == 1
			if deleting {
				for _, id := range previous {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if _, err := s.DeleteDocument(ctx, u.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
							t.Errorf("delete: %v", err)
						}
					}()
				}
			}
			close(start)
			wg.Wait()
			var sum int64
			if err := s.DB().QueryRow(`SELECT COALESCE(SUM(size_bytes), 0) FROM documents WHERE user_id = $1 AND status <> 'pending'`, u.ID).Scan(&sum); err != nil {
				t.Fatal(err)
			}
			q, err := s.QuotaOf(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if q.UsedBytes != sum || q.UsedBytes > q.LimitBytes {
				t.Fatalf("round %d: used_bytes %d, documents hold %d", round, q.UsedBytes, sum)
			}
			if !deleting && len(previous) == 0 && granted.Load() != 10 {
				t.Fatalf("round %d: %d granted from an empty quota, want 10", round, granted.Load())
			}
			// Clean up: remove refused pendings; even rounds clear everything for the next.
			if _, err := s.DB().Exec(`DELETE FROM documents WHERE user_id = $1 AND status = 'pending'`, u.ID); err != nil {
				t.Fatal(err)
			}
			previous = previous[:0]
			rows, err := s.DB().Query(`SELECT id FROM documents WHERE user_id = $1`, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				rows.Scan(&id)
				previous = append(previous, id)
			}
			rows.Close()
			if deleting {
				for _, id := range previous {
					if _, err := s.DeleteDocument(ctx, u.ID, id); err != nil {
						t.Fatal(err)
					}
				}
				previous = nil
			}
		}
	})
}
