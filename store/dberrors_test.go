package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// failUpdatesOf makes every UPDATE of table fail inside the database, the way a full disk or
// a dropped connection fails a statement that would otherwise have matched its row.
func failUpdatesOf(t *testing.T, s *store.Store, table string) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER fail_updates BEFORE UPDATE ON ` + table + ` BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
	if s.Dialect() == store.Postgres {
		stmts = []string{
			`CREATE FUNCTION fail_updates() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			`CREATE TRIGGER fail_updates BEFORE UPDATE ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION fail_updates()`,
		}
	}
	for _, q := range stmts {
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// claimedJob uploads a document for a new user and claims it for classification.
func claimedJob(t *testing.T, s *store.Store) store.Job {
	t.Helper()
	return claimedJobOf(t, s, mustUser(t, s, "alice", store.RoleUser, 1<<20))
}

// claimedJobOf uploads a document for u and claims it for classification: the one waiting.
func claimedJobOf(t *testing.T, s *store.Store, u store.User) store.Job {
	t.Helper()
	ctx := context.Background()
	d, err := s.CreatePending(ctx, u.ID, "a.txt", "text/plain", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmUpload(ctx, u.ID, d.ID, 10, ""); err != nil {
		t.Fatal(err)
	}
	j, err := s.ClaimNext(ctx, time.Minute)
	if err != nil || j.DocumentID != d.ID {
		t.Fatalf("claim %+v %v", j, err)
	}
	return j
}

// TestLeaseFunctionsReportDatabaseErrors: a lease-guarded write that fails in the database
// returns that failure, not ErrLeaseLost (which tells a worker to drop a document it still
// holds); a lease that really moved on is still ErrLeaseLost.
func TestLeaseFunctionsReportDatabaseErrors(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		j := claimedJob(t, s)

		stale := j
		stale.Lease = j.Lease.Add(-time.Second)
		if err := s.CompleteJob(ctx, stale, "", nil, nil); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("complete with a stale lease: %v, want ErrLeaseLost", err)
		}
		if err := s.FailJob(ctx, stale, "x", 0, false); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("fail with a stale lease: %v, want ErrLeaseLost", err)
		}

		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.FailJob(cancelled, j, "x", 0, false); errors.Is(err, store.ErrLeaseLost) || !errors.Is(err, context.Canceled) {
			t.Fatalf("fail with a cancelled context: %v, want context.Canceled", err)
		}

		failUpdatesOf(t, s, "documents")
		for name, call := range map[string]func() error{
			"complete": func() error { return s.CompleteJob(ctx, j, "text", nil, nil) },
			"fail":     func() error { return s.FailJob(ctx, j, "x", 0, false) },
		} {
			err := call()
			if err == nil || errors.Is(err, store.ErrLeaseLost) || !strings.Contains(err.Error(), "injected failure") {
				t.Errorf("%s while the database fails: %v, want the database's error", name, err)
			}
		}
	})
}

// TestEnableTOTPReportsDatabaseErrors: EnableTOTP says ErrConflict only when 2FA is already on
// (or was never set up), and passes a database failure on as itself.
func TestEnableTOTPReportsDatabaseErrors(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		if err := s.EnableTOTP(ctx, u.ID, 1, nil); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("enable without a secret: %v, want ErrConflict", err)
		}
		if err := s.SetTOTPSecret(ctx, u.ID, "SECRET"); err != nil {
			t.Fatal(err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.EnableTOTP(cancelled, u.ID, 1, nil); errors.Is(err, store.ErrConflict) || !errors.Is(err, context.Canceled) {
			t.Fatalf("enable with a cancelled context: %v, want context.Canceled", err)
		}
		failUpdatesOf(t, s, "users")
		err := s.EnableTOTP(ctx, u.ID, 1, []string{"h"})
		if err == nil || errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("enable while the database fails: %v, want the database's error", err)
		}
		if _, err := s.DB().Exec(`DROP TRIGGER fail_updates` + map[bool]string{true: " ON users", false: ""}[s.Dialect() == store.Postgres]); err != nil {
			t.Fatal(err)
		}
		if err := s.EnableTOTP(ctx, u.ID, 1, []string{"h"}); err != nil {
			t.Fatal(err)
		}
		if err := s.EnableTOTP(ctx, u.ID, 2, []string{"h"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("enable twice: %v, want ErrConflict", err)
		}
	})
}

// TestFailedJobRetriesOnTheStoreClock: a failed attempt is due again after retryIn on the
// store's own clock (the one ClaimNext compares with), not before, and then once only.
func TestFailedJobRetriesOnTheStoreClock(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			now, advance := settableClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			s := newTestStore(t, d, store.WithClock(now))
			j := claimedJob(t, s)
			if err := s.FailJob(ctx, j, "provider down", 10*time.Second, false); err != nil {
				t.Fatal(err)
			}
			advance(9 * time.Second)
			if _, err := s.ClaimNext(ctx, time.Minute); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("claimed before its retry time: %v", err)
			}
			advance(time.Second)
			again, err := s.ClaimNext(ctx, time.Minute)
			if err != nil {
				t.Fatalf("not due after its retry time: %v", err)
			}
			if again.DocumentID != j.DocumentID || again.Attempts != 2 {
				t.Fatalf("claimed %s attempt %d, want %s attempt 2", again.DocumentID, again.Attempts, j.DocumentID)
			}
			if _, err := s.ClaimNext(ctx, time.Minute); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("claimed twice: %v", err)
			}
		})
	}
}

// settableClock is a time source for a store that a test moves forward by hand.
func settableClock(start time.Time) (now func() time.Time, advance func(time.Duration)) {
	var mu sync.Mutex
	t := start
	return func() time.Time { mu.Lock(); defer mu.Unlock(); return t },
		func(d time.Duration) { mu.Lock(); t = t.Add(d); mu.Unlock() }
}
