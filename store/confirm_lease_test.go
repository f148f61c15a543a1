package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docuvault/docuvault/store"
)

// TestConfirmLeaseCarriesReservation: the lease of a pending upload returns its object key
// and reserved size, and a confirm with that size gives the whole reservation back while it
// charges the real size, keeps a checksum recorded while the bytes streamed over the one
// passed, and refuses a duplicate of it. No lease for another user's upload, a leased one,
// or a confirmed one; a negative reservation is refused before anything runs.
func TestConfirmLeaseCarriesReservation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		alice, bob := mustUser(t, s, "alice", store.RoleUser, 1000), mustUser(t, s, "bob", store.RoleUser, 1000)
		d, err := s.ReservePending(ctx, alice.ID, "a.txt", "text/plain", 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.LeaseConfirm(ctx, bob.ID, d.ID, time.Minute); ok || err != nil {
			t.Fatalf("bob leased alice's upload: %v %v", ok, err)
		}
		lease, ok, err := s.LeaseConfirm(ctx, alice.ID, d.ID, time.Minute)
		if err != nil || !ok || lease.ObjectKey != d.ObjectKey || lease.DeclaredSize != 100 {
			t.Fatalf("lease = %+v %v %v, want key %s and 100 bytes", lease, ok, err, d.ObjectKey)
		}
		if _, ok, _ := s.LeaseConfirm(ctx, alice.ID, d.ID, time.Minute); ok {
			t.Fatal("a second lease while the first holds")
		}
		claim, err := s.ClaimUpload(ctx, d.ObjectKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FinishUpload(ctx, claim, dupSum); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmReserved(ctx, alice.ID, d.ID, -1, 80, ""); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("negative reservation: %v", err)
		}
		got, err := s.ConfirmReserved(ctx, alice.ID, d.ID, lease.DeclaredSize, 80, "b"+dupSum[1:])
		if err != nil || got.Status != store.StatusUploaded || got.SizeBytes != 80 {
			t.Fatalf("confirm = %+v %v", got, err)
		}
		if sum, _ := s.DocumentChecksum(ctx, d.ID); sum != dupSum {
			t.Fatalf("checksum %q, want the streamed one", sum)
		}
		q, _ := s.QuotaOf(ctx, alice.ID)
		if q.UsedBytes != 80 || q.PendingBytes != 0 || q.DocumentCount != 1 {
			t.Fatalf("quota used %d pending %d count %d, want 80 0 1", q.UsedBytes, q.PendingBytes, q.DocumentCount)
		}
		if _, ok, _ := s.LeaseConfirm(ctx, alice.ID, d.ID, time.Minute); ok {
			t.Fatal("lease of a confirmed upload")
		}
		again, err := s.ConfirmReserved(ctx, alice.ID, d.ID, 100, 80, "")
		if err != nil || again.SizeBytes != 80 {
			t.Fatalf("repeated confirm: %+v %v", again, err)
		}
		if q2, _ := s.QuotaOf(ctx, alice.ID); q2 != q {
			t.Fatalf("repeated confirm changed the quota: %+v -> %+v", q, q2)
		}
		// The same bytes again, recorded while streaming: refused, nothing charged.
		d2, err := s.ReservePending(ctx, alice.ID, "b.txt", "text/plain", 50, 0)
		if err != nil {
			t.Fatal(err)
		}
		lease2, _, err := s.LeaseConfirm(ctx, alice.ID, d2.ID, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		claim2, _ := s.ClaimUpload(ctx, d2.ObjectKey)
		if err := s.FinishUpload(ctx, claim2, dupSum); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmReserved(ctx, alice.ID, d2.ID, lease2.DeclaredSize, 50, ""); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate: %v", err)
		}
		if q3, _ := s.QuotaOf(ctx, alice.ID); q3.UsedBytes != 80 || q3.PendingBytes != 50 {
			t.Fatalf("after a refused duplicate: used %d pending %d, want 80 and the reservation kept for the discard", q3.UsedBytes, q3.PendingBytes)
		}
		if _, err := s.ConfirmReserved(ctx, bob.ID, d2.ID, 50, 50, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("bob confirming alice's upload: %v", err)
		}
	})
}
