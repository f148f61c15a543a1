package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// TestLoginThrottleRule checks the bucket arithmetic on both databases: a hard limit per
// window that refusals do not extend, spacing past the free count, refunds and resets,
// and that parallel takes never grant more than the limit.
func TestLoginThrottleRule(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			now, advance := settableClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			s := newTestStore(t, d, store.WithClock(now))
			take := func(bucket string, r store.ThrottleRule) store.ThrottleGrant {
				t.Helper()
				g, err := s.TakeLoginAttempt(ctx, bucket, r)
				if err != nil {
					t.Fatal(err)
				}
				return g
			}

			hard := store.ThrottleRule{Window: 15 * time.Minute, Limit: 3, Free: 3}
			for i := range 3 {
				if g := take("hard", hard); !g.Allowed {
					t.Fatalf("attempt %d refused", i+1)
				}
			}
			advance(10 * time.Minute)
			g := take("hard", hard)
			if g.Allowed || g.RetryAfter != 5*time.Minute {
				t.Fatalf("over the limit: %+v", g)
			}
			advance(4 * time.Minute)
			if g := take("hard", hard); g.Allowed || g.RetryAfter != time.Minute {
				t.Fatalf("a refusal extended the window: %+v", g)
			}
			advance(time.Minute)
			last := take("hard", hard)
			if !last.Allowed {
				t.Fatal("a new window did not start")
			}
			if err := s.RefundLoginAttempt(ctx, last); err != nil {
				t.Fatal(err)
			}
			take("hard", hard)
			take("hard", hard)
			take("hard", hard) // the refund made room for a third
			if g := take("hard", hard); g.Allowed {
				t.Fatal("refund gave more than one attempt back")
			}
			if err := s.ResetLoginBucket(ctx, "hard"); err != nil {
				t.Fatal(err)
			}
			if g := take("hard", hard); !g.Allowed {
				t.Fatal("reset did not clear the bucket")
			}

			spaced := store.ThrottleRule{Window: time.Hour, Limit: 1 << 30, Free: 2, Spacing: 20 * time.Second}
			take("spaced", spaced)
			take("spaced", spaced)
			if g := take("spaced", spaced); g.Allowed || g.RetryAfter != 20*time.Second {
				t.Fatalf("past the free count: %+v", g)
			}
			advance(20 * time.Second)
			if g := take("spaced", spaced); !g.Allowed {
				t.Fatal("spacing elapsed but refused")
			}
			if g := take("spaced", spaced); g.Allowed {
				t.Fatal("two attempts within one spacing")
			}

			// Parallel takes on one bucket: exactly the limit pass.
			granted := 0
			for _, allowed := range testenv.Together(60, func(int) bool {
				g, err := s.TakeLoginAttempt(ctx, "parallel", hard)
				if err != nil {
					t.Error(err)
				}
				return g.Allowed
			}) {
				if allowed {
					granted++
				}
			}
			if granted != 3 {
				t.Fatalf("%d parallel attempts granted, want 3", granted)
			}

			advance(2 * time.Hour)
			if n, err := s.PruneLoginThrottle(ctx, now().Add(-time.Hour)); err != nil || n != 3 {
				t.Fatalf("pruned %d, %v", n, err)
			}
		})
	}
}
