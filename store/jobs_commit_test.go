package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docuvault/docuvault/store"
)

// TestClassificationCommitsLazilyOnlyThemselves: on PostgreSQL, claiming and finishing a
// classification turn synchronous_commit off for their own transactions only; the session
// they ran on (then serving uploads, sessions, quotas) still waits for the disk. On SQLite
// the same calls work unchanged.
func TestClassificationCommitsLazilyOnlyThemselves(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		s.DB().SetMaxOpenConns(1) // every call below runs on the same session
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		tp := mustTopic(t, s, nil, "Alpha")
		j := claimedJobOf(t, s, u)
		if s.Dialect() == store.Postgres {
			var mode string
			if err := s.DB().QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&mode); err != nil || mode != "on" {
				t.Fatalf("after claiming, the session commits with synchronous_commit %q (%v)", mode, err)
			}
		}
		if err := s.CompleteJob(ctx, j, "text", []store.Assignment{{TopicID: tp.ID, Confidence: 0.9}}, nil); err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.Postgres {
			var mode string
			if err := s.DB().QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&mode); err != nil || mode != "on" {
				t.Fatalf("after finishing, the session commits with synchronous_commit %q (%v)", mode, err)
			}
		}
		got, err := s.Document(ctx, u.ID, j.DocumentID)
		if err != nil || got.Status != store.StatusClassified || len(got.Topics) != 1 || got.Topics[0].ID != tp.ID {
			t.Fatalf("document %+v %v", got, err)
		}
		// The finished claim is spent: finishing it again is a lost lease, nothing changes.
		if err := s.CompleteJob(ctx, j, "other", nil, nil); err == nil {
			t.Fatal("a finished claim finished again")
		}
	})
}

// TestReclassificationReplacesAutomaticTopics: a document classified again loses the
// automatic topics and suggestions of the first run and gets the new ones, topics moving
// to suggestions and back.
func TestReclassificationReplacesAutomaticTopics(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		a, b, c := mustTopic(t, s, nil, "Alpha"), mustTopic(t, s, nil, "Beta"), mustTopic(t, s, nil, "Gamma")
		d := classifiedDoc(t, s, u, "x", store.Assignment{TopicID: a.ID, Confidence: 0.9}, store.Assignment{TopicID: b.ID, Confidence: 0.3, Suggested: true})
		if len(d.Topics) != 1 || d.Topics[0].ID != a.ID || len(d.Suggested) != 0 {
			t.Fatalf("first run: topics %+v suggested %+v", d.Topics, d.Suggested)
		}
		rerun := func(as ...store.Assignment) store.Document {
			t.Helper()
			if err := s.Requeue(ctx, u.ID, d.ID); err != nil {
				t.Fatal(err)
			}
			j, err := s.ClaimNext(ctx, time.Minute)
			if err != nil || j.DocumentID != d.ID {
				t.Fatalf("claim %+v %v", j, err)
			}
			if err := s.CompleteJob(ctx, j, "x", as, nil); err != nil {
				t.Fatal(err)
			}
			got, err := s.Document(ctx, u.ID, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		got := rerun(store.Assignment{TopicID: b.ID, Confidence: 0.4, Suggested: true}, store.Assignment{TopicID: c.ID, Confidence: 0.3, Suggested: true})
		if len(got.Topics) != 0 || len(got.Suggested) != 2 || got.Suggested[0].ID != b.ID || got.Suggested[1].ID != c.ID {
			t.Fatalf("second run: topics %+v suggested %+v", got.Topics, got.Suggested)
		}
		got = rerun(store.Assignment{TopicID: c.ID, Confidence: 0.8})
		if len(got.Topics) != 1 || got.Topics[0].ID != c.ID || got.Topics[0].Source == store.SourceManual || len(got.Suggested) != 0 {
			t.Fatalf("third run: topics %+v suggested %+v", got.Topics, got.Suggested)
		}
		var rows int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM document_suggestions WHERE document_id = $1`, d.ID).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("suggestions left: %d %v", rows, err)
		}
	})
}

// TestPendingUploadCommitsLazilyAndLocksTheQuotaLast: reserving an upload commits without
// waiting for the disk on PostgreSQL, for its own transaction only; a refused reservation
// leaves no document behind (the insert comes before the quota's conditional UPDATE and is
// rolled back), and one for a user that is gone is ErrNotFound, as before.
func TestPendingUploadCommitsLazilyAndLocksTheQuotaLast(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		s.DB().SetMaxOpenConns(1) // every call below runs on the same session
		u := mustUser(t, s, "alice", store.RoleUser, 100)
		d, err := s.ReservePending(ctx, u.ID, "a.txt", "text/plain", 60, 0)
		if err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.Postgres {
			var mode string
			if err := s.DB().QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&mode); err != nil || mode != "on" {
				t.Fatalf("after a reservation, the session commits with synchronous_commit %q (%v)", mode, err)
			}
		}
		if _, err := s.ReservePending(ctx, u.ID, "b.txt", "text/plain", 101, 0); !errors.Is(err, store.ErrQuotaExceeded) {
			t.Fatalf("reservation past the limit: %v", err)
		}
		if _, err := s.ReservePending(ctx, "no-such-user", "c.txt", "text/plain", 1, 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("reservation for a user that does not exist: %v, want ErrNotFound", err)
		}
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM documents`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("documents after one reservation and two refusals: %d (%v), want 1", n, err)
		}
		q, err := s.QuotaOf(ctx, u.ID)
		if err != nil || q.PendingBytes != 60 || q.DocumentCount != 1 {
			t.Fatalf("quota %+v %v, want 60 pending bytes and 1 document", q, err)
		}
		if got, err := s.Document(ctx, u.ID, d.ID); err != nil || got.Status != store.StatusPending {
			t.Fatalf("reserved document %+v %v", got, err)
		}
	})
}
