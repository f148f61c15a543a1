package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

const dupSum = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// confirmWithSum creates a pending document and confirms it with sum.
func confirmWithSum(t *testing.T, s *store.Store, userID, sum string) (store.Document, error) {
	t.Helper()
	d, err := s.CreatePending(context.Background(), userID, "f.pdf", "application/pdf", 10)
	if err != nil {
		t.Fatal(err)
	}
	return s.ConfirmUpload(context.Background(), userID, d.ID, 10, sum)
}

// TestConfirmRefusesDuplicates: the same bytes twice from one user is a *DuplicateError with
// the first document's id and nothing charged; another user's copy is fine; "allow" keeps both.
func TestConfirmRefusesDuplicates(t *testing.T) {
	for _, dialect := range testenv.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s := newTestStore(t, dialect)
			alice, bob := mustUser(t, s, "alice", store.RoleUser, 1000), mustUser(t, s, "bob", store.RoleUser, 1000)
			first, err := confirmWithSum(t, s, alice.ID, dupSum)
			if err != nil {
				t.Fatal(err)
			}
			_, err = confirmWithSum(t, s, alice.ID, dupSum)
			var dup *store.DuplicateError
			if !errors.As(err, &dup) || !errors.Is(err, store.ErrDuplicate) || dup.ExistingID != first.ID {
				t.Fatalf("second confirm: %v", err)
			}
			q, _ := s.QuotaOf(ctx, alice.ID)
			if q.UsedBytes != 10 {
				t.Fatalf("used %d after a refused duplicate, want 10", q.UsedBytes)
			}
			if _, err := confirmWithSum(t, s, bob.ID, dupSum); err != nil {
				t.Fatalf("another user's copy: %v", err)
			}
			if id, err := s.DuplicateOf(ctx, alice.ID, dupSum); err != nil || id != first.ID {
				t.Fatalf("DuplicateOf = %q, %v", id, err)
			}
			if _, err := s.DuplicateOf(ctx, alice.ID, "b"+dupSum[1:]); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("DuplicateOf of unknown bytes: %v", err)
			}
		})
	}
}

// TestDuplicatesAllowed keeps both copies when the policy is "allow".
func TestDuplicatesAllowed(t *testing.T) {
	for _, dialect := range testenv.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			s := newTestStore(t, dialect, store.WithDuplicates(store.DuplicatesAllow))
			alice := mustUser(t, s, "alice", store.RoleUser, 1000)
			for i := 0; i < 2; i++ {
				if _, err := confirmWithSum(t, s, alice.ID, dupSum); err != nil {
					t.Fatalf("copy %d: %v", i, err)
				}
			}
			q, _ := s.QuotaOf(context.Background(), alice.ID)
			if q.UsedBytes != 20 {
				t.Fatalf("used %d, want 20", q.UsedBytes)
			}
		})
	}
}

// TestConcurrentDuplicateConfirms: identical uploads confirmed at the same moment end in
// exactly one document, and the quota holds exactly one copy.
func TestConcurrentDuplicateConfirms(t *testing.T) {
	for _, dialect := range testenv.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s := newTestStore(t, dialect)
			alice := mustUser(t, s, "alice", store.RoleUser, 1000)
			const n = 8
			ids := make([]string, n)
			for i := range ids {
				d, err := s.CreatePending(ctx, alice.ID, "f.pdf", "application/pdf", 10)
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = d.ID
			}
			errs := testenv.Together(n, func(i int) error {
				_, err := s.ConfirmUpload(ctx, alice.ID, ids[i], 10, dupSum)
				return err
			})
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrDuplicate):
					t.Fatalf("confirm: %v", err)
				}
			}
			q, _ := s.QuotaOf(ctx, alice.ID)
			if ok != 1 || q.UsedBytes != 10 {
				t.Fatalf("%d confirmed, used %d; want exactly one of 10 bytes", ok, q.UsedBytes)
			}
		})
	}
}

// TestRecordChecksumRemovesDuplicate: a document whose bytes are first hashed by the worker
// (S3 uploads) and match another of the user's documents is removed, its bytes given back
// and its objects — thumbnail included — queued for deletion.
func TestRecordChecksumRemovesDuplicate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		alice := mustUser(t, s, "alice", store.RoleUser, 1000)
		first, err := confirmWithSum(t, s, alice.ID, dupSum)
		if err != nil {
			t.Fatal(err)
		}
		second, err := confirmWithSum(t, s, alice.ID, "") // sum unknown at confirm
		if err != nil {
			t.Fatal(err)
		}
		before, _ := s.PendingDeletions(ctx)
		err = s.RecordChecksum(ctx, second.ID, dupSum)
		var dup *store.DuplicateError
		if !errors.As(err, &dup) || dup.ExistingID != first.ID {
			t.Fatalf("RecordChecksum: %v", err)
		}
		if _, err := s.Document(ctx, alice.ID, second.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("duplicate still there: %v", err)
		}
		q, _ := s.QuotaOf(ctx, alice.ID)
		after, _ := s.PendingDeletions(ctx)
		if q.UsedBytes != 10 || after-before != 3 {
			t.Fatalf("used %d, %d keys queued; want 10 and 3", q.UsedBytes, after-before)
		}
		known, err := s.KnownObjects(ctx, []string{store.ThumbKeyFor(first.ObjectKey), store.ThumbKeyFor(second.ObjectKey)})
		if err != nil || !known[store.ThumbKeyFor(first.ObjectKey)] || !known[store.ThumbKeyFor(second.ObjectKey)] {
			t.Fatalf("thumbnail keys not known (document or outbox): %v %v", known, err)
		}
	})
}

// TestDeleteQueuesThumbnail: every way a document goes queues its thumbnail key too.
func TestDeleteQueuesThumbnail(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		alice := mustUser(t, s, "alice", store.RoleUser, 1000)
		d, err := confirmWithSum(t, s, alice.ID, dupSum)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := s.SetThumbnail(ctx, d.ID, "image/jpeg"); !ok || err != nil {
			t.Fatalf("SetThumbnail: %v %v", ok, err)
		}
		if got, _ := s.Document(ctx, alice.ID, d.ID); !got.HasThumbnail {
			t.Fatal("HasThumbnail false after SetThumbnail")
		}
		keys, err := s.DeleteDocument(ctx, alice.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 3 || keys[2] != store.ThumbKeyFor(d.ObjectKey) {
			t.Fatalf("keys %v", keys)
		}
		if ok, err := s.SetThumbnail(ctx, d.ID, "image/jpeg"); ok || err != nil {
			t.Fatalf("SetThumbnail of a deleted document: %v %v", ok, err)
		}
		known, _ := s.KnownObjects(ctx, []string{store.ThumbKeyFor(d.ObjectKey)})
		if !known[store.ThumbKeyFor(d.ObjectKey)] {
			t.Fatal("thumbnail key not in the outbox")
		}
		p, err := s.CreatePending(ctx, alice.ID, "p.pdf", "application/pdf", 5)
		if err != nil {
			t.Fatal(err)
		}
		if keys, err := s.DiscardPending(ctx, alice.ID, p.ID); err != nil || len(keys) != 3 {
			t.Fatalf("discard: %v %v", keys, err)
		}
	})
}
