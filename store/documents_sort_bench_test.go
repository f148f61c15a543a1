package store_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// BenchmarkSortedListPages measures, for each order, a page near the end of a large
// collection (reached by its cursor) beside the first page as the baseline, and beside the
// same deep page reached with OFFSET, which keyset pagination avoids. DOCUVAULT_BENCH_DOCS
// sets the collection's size (default 20000).
func BenchmarkSortedListPages(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("DOCUVAULT_BENCH_DOCS")); err == nil && v > 200 {
		n = v
	}
	for _, dialect := range testenv.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			s := newBenchStore(b, dialect)
			ctx := context.Background()
			u := mustUserB(b, s)
			seedDocuments(b, s, u.ID, n)
			for _, o := range []string{store.SortCreated, store.SortName, store.SortSize} {
				f := store.DocumentFilter{Sort: o, Asc: true, Limit: 50}
				deep := f
				// The cursor of the page that starts 100 documents before the end.
				docs, _, err := s.ListDocuments(ctx, u.ID, store.DocumentFilter{Sort: o, Asc: false, Limit: 101})
				if err != nil || len(docs) != 101 {
					b.Fatal(err)
				}
				deep.After, err = store.DecodeCursor(cursorAt(docs[100], o).Encode())
				if err != nil {
					b.Fatal(err)
				}
				b.Run(o+"/baseline-first-page", func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						if _, _, err := s.ListDocuments(ctx, u.ID, f); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run(o+"/deep-page-by-cursor", func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						if docs, _, err := s.ListDocuments(ctx, u.ID, deep); err != nil || len(docs) != 50 {
							b.Fatal(len(docs), err)
						}
					}
				})
				b.Run(o+"/deep-page-by-offset", func(b *testing.B) {
					q, args := store.SortedListSQL(o, true, nil, u.ID)
					q = q[:len(q)-len(" LIMIT $3")] + ` LIMIT 50 OFFSET ` + strconv.Itoa(n-100)
					for i := 0; i < b.N; i++ {
						rows, err := s.DB().QueryContext(ctx, q, args[:2]...)
						if err != nil {
							b.Fatal(err)
						}
						for rows.Next() {
						}
						rows.Close()
					}
				})
			}
		})
	}
}

// cursorAt is the cursor of an ascending list positioned just before d.
func cursorAt(d store.Document, o string) store.Cursor {
	c := store.Cursor{Sort: o, Asc: true, ID: d.ID, At: d.CreatedAt, Size: d.SizeBytes}
	if o == store.SortName {
		c.Name = d.Filename // the seeded names are ASCII lower case: their own keys
	}
	return c
}
