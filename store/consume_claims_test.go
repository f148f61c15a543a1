package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// TestConsumeClaimRace: sixteen replicas claim one file at the same moment; one gets it.
// Once its lease runs out exactly one other takes it over, learning the document it names;
// a done claim may be taken by anyone (to remove the file); others' updates are refused.
func TestConsumeClaimRace(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "ada", store.RoleUser, 1000)
		key := store.ConsumeKey{Path: "ada/scan.pdf", Size: 42, MtimeNS: 1_700_000_000_123_456_789}
		now := time.Now()
		type res struct {
			c  store.ConsumeClaim
			ok bool
		}
		claim := func(round string, at time.Time) []res {
			return testenv.Together(16, func(i int) res {
				c, ok, err := s.ClaimConsumeFile(ctx, key, u.ID, fmt.Sprintf("%s%d", round, i), at.Add(time.Minute), at)
				if err != nil {
					t.Error(err)
				}
				return res{c, ok}
			})
		}
		var winner store.ConsumeClaim
		won := 0
		for _, r := range claim("first-", now) {
			if r.ok {
				won++
				winner = r.c
			}
		}
		if won != 1 || winner.DocumentID != "" || winner.Done {
			t.Fatalf("%d claims granted (%+v)", won, winner)
		}
		if err := s.SetConsumeDocument(ctx, winner, "doc-1"); err != nil {
			t.Fatal(err)
		}
		// Within the lease nobody else gets it; after it, one does and sees doc-1.
		if _, ok, _ := s.ClaimConsumeFile(ctx, key, u.ID, "late", now.Add(time.Hour), now.Add(30*time.Second)); ok {
			t.Fatal("taken within the lease")
		}
		won = 0
		var next store.ConsumeClaim
		for _, r := range claim("second-", now.Add(2*time.Minute)) {
			if r.ok {
				won++
				next = r.c
			}
		}
		if won != 1 || next.DocumentID != "doc-1" || next.Holder == winner.Holder {
			t.Fatalf("takeover: %d granted, %+v", won, next)
		}
		if err := s.FinishConsume(ctx, winner); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("the first holder finished a claim it lost: %v", err)
		}
		next.DocumentID = "doc-1"
		if err := s.FinishConsume(ctx, next); err != nil {
			t.Fatal(err)
		}
		c, ok, err := s.ClaimConsumeFile(ctx, key, u.ID, "cleaner", now.Add(3*time.Minute), now.Add(2*time.Minute))
		if err != nil || !ok || !c.Done || c.DocumentID != "doc-1" {
			t.Fatalf("done claim: %+v %v %v", c, ok, err)
		}
		if err := s.ForgetConsume(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.ClaimConsumeFile(ctx, key, u.ID, "fresh", now.Add(time.Hour), now); !ok {
			t.Fatal("a forgotten claim is not free again")
		}
	})
}
