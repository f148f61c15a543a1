package store_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/docuvault/docuvault/store"
)

// confirmed makes a confirmed document of size bytes for the user.
func confirmed(t *testing.T, s *store.Store, userID, name string, size int64) store.Document {
	t.Helper()
	ctx := context.Background()
	d, err := s.CreatePending(ctx, userID, name, "text/plain", size)
	if err != nil {
		t.Fatal(err)
	}
	if d, err = s.ConfirmUpload(ctx, userID, d.ID, size, ""); err != nil {
		t.Fatal(err)
	}
	return d
}

// pageAll lists every document of the filter's order, limit at a time, through encoded
// cursors as a client would.
func pageAll(t *testing.T, s *store.Store, userID string, f store.DocumentFilter) []store.Document {
	t.Helper()
	var all []store.Document
	for i := 0; ; i++ {
		docs, next, err := s.ListDocuments(context.Background(), userID, f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, docs...)
		if next == nil {
			return all
		}
		if i > 100 {
			t.Fatal("paging does not end")
		}
		if f.After, err = store.DecodeCursor(next.Encode()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestListSortOrders: every order, both directions, paged two at a time across ties of
// equal names (in any case), equal sizes and equal creation times, lists each of the user's
// documents exactly once in the order of its key then its id — and none of another user's.
func TestListSortOrders(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		alice := mustUser(t, s, "alice", "user", 1<<30)
		bob := mustUser(t, s, "bob", "user", 1<<30)
		confirmed(t, s, bob.ID, "a.txt", 1)
		names := []string{"b.txt", "B.TXT", "a.txt", "Ärzte.pdf", "ärzte.pdf", "ÄRZTE.PDF", "zeta", "b.txt", "Straße", "STRASSE", "10.txt", "b.txt"}
		sizes := []int64{5, 5, 7, 1, 5, 7, 0, 5, 2, 2, 9, 5}
		var docs []store.Document
		for i, n := range names {
			docs = append(docs, confirmed(t, s, alice.ID, n, sizes[i]))
		}
		key := func(o string, d store.Document) string {
			switch o {
			case store.SortName:
				return cases.Fold().String(norm.NFC.String(d.Filename))
			case store.SortSize:
				return fmt.Sprintf("%020d", d.SizeBytes)
			}
			return d.CreatedAt.Format("2006-01-02T15:04:05.000000000")
		}
		for _, o := range []string{store.SortCreated, store.SortName, store.SortSize} {
			for _, asc := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/asc=%v", o, asc), func(t *testing.T) {
					want := append([]store.Document(nil), docs...)
					sort.Slice(want, func(i, j int) bool {
						ki, kj := key(o, want[i])+"\x00"+want[i].ID, key(o, want[j])+"\x00"+want[j].ID
						if asc {
							return ki < kj
						}
						return ki > kj
					})
					got := pageAll(t, s, alice.ID, store.DocumentFilter{Sort: o, Asc: asc, Limit: 2})
					if len(got) != len(want) {
						t.Fatalf("%d documents, want %d", len(got), len(want))
					}
					for i := range want {
						if got[i].ID != want[i].ID {
							t.Fatalf("position %d: %s %q, want %s %q", i, got[i].ID, got[i].Filename, want[i].ID, want[i].Filename)
						}
					}
				})
			}
		}
		// The name order folds case and width of Unicode letters together.
		byName := pageAll(t, s, alice.ID, store.DocumentFilter{Sort: store.SortName, Asc: true, Limit: 50})
		var folded []string
		for _, d := range byName {
			folded = append(folded, strings.ToLower(d.Filename))
		}
		if strings.Join(folded[:1], ",") != "10.txt" || !strings.Contains(strings.Join(folded, ","), "ärzte.pdf,ärzte.pdf,ärzte.pdf") ||
			!strings.Contains(strings.Join(folded, ","), "strasse,straße") && !strings.Contains(strings.Join(folded, ","), "straße,strasse") {
			t.Fatalf("name order %v", folded)
		}
	})
}

// TestListCursorBelongsToItsOrder: a cursor serves only the order and direction it was made
// for, and a plain list's cursor no search.
func TestListCursorBelongsToItsOrder(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", "user", 1<<30)
		for i := 0; i < 3; i++ {
			confirmed(t, s, u.ID, fmt.Sprintf("doc %d", i), int64(i))
		}
		orders := []store.DocumentFilter{{}, {Sort: store.SortCreated, Asc: true}, {Sort: store.SortName}, {Sort: store.SortName, Asc: true},
			{Sort: store.SortSize}, {Sort: store.SortSize, Asc: true}}
		for i, from := range orders {
			from.Limit = 1
			_, next, err := s.ListDocuments(ctx, u.ID, from)
			if err != nil || next == nil {
				t.Fatalf("%+v: %v, %v", from, next, err)
			}
			c, err := store.DecodeCursor(next.Encode())
			if err != nil {
				t.Fatal(err)
			}
			for j, to := range orders {
				to.Limit, to.After = 1, c
				_, _, err := s.ListDocuments(ctx, u.ID, to)
				if i == j && err != nil {
					t.Fatalf("own order %+v: %v", to, err)
				}
				if i != j && !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("cursor of %+v used with %+v: %v", from, to, err)
				}
			}
			search := store.DocumentFilter{Query: "doc", Limit: 1, After: c}
			if _, _, err := s.ListDocuments(ctx, u.ID, search); i > 0 && !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("cursor of %+v used with a search: %v", from, err)
			}
		}
	})
}

// TestSortCursorRefusesHostileText: decoded cursors of the sorted orders accept only what
// Encode makes.
func TestSortCursorRefusesHostileText(t *testing.T) {
	id := "0b7f3e4c-58d4-4a57-9a0c-6a7f2d1d8e11"
	enc := base64.RawURLEncoding.EncodeToString
	for _, raw := range []string{"n|a\x00b|" + id, "n|\xff|" + id, "z|-1|" + id, "z|1e3|" + id, "Z|9|not-an-id", "T|yesterday|" + id,
		"N|" + strings.Repeat("a", 2000) + "|" + id, "n|" + id, "q|x|" + id} {
		if _, err := store.DecodeCursor(enc([]byte(raw))); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%q decoded: %v", raw, err)
		}
	}
	c := store.Cursor{Sort: store.SortName, Asc: true, Name: "a|b|c", ID: id, At: time.Unix(0, 0)}
	got, err := store.DecodeCursor(c.Encode())
	if err != nil || got.Name != "a|b|c" || !got.Asc || got.Sort != store.SortName || got.ID != id {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
}
