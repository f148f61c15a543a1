package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// BenchmarkConfirmUpload measures the quota-charging confirm (one transaction: the status
// move and one conditional UPDATE) beside the bare conditional UPDATE as the baseline.
func BenchmarkConfirmUpload(b *testing.B) {
	for _, dialect := range testenv.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			s := newBenchStore(b, dialect)
			ctx := context.Background()
			u := mustUserB(b, s)
			b.Run("baseline-raw-update", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := s.DB().ExecContext(ctx, `UPDATE quotas SET used_bytes = used_bytes + $1 WHERE user_id = $2 AND used_bytes + $1 <= limit_bytes`, 0, u.ID); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("confirm-upload", func(b *testing.B) {
				ids := make([]string, b.N)
				for i := range ids {
					d, err := s.CreatePending(ctx, u.ID, "f.bin", "application/octet-stream", 0)
					if err != nil {
						b.Fatal(err)
					}
					ids[i] = d.ID
				}
				b.ResetTimer()
				for _, id := range ids {
					if _, err := s.ConfirmUpload(ctx, u.ID, id, 1, ""); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkListDocuments pages through 5,000 documents with the keyset query, beside a raw
// indexed SELECT of the same page as the baseline.
func BenchmarkListDocuments(b *testing.B) {
	for _, dialect := range testenv.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			s := newBenchStore(b, dialect)
			ctx := context.Background()
			u := mustUserB(b, s)
			for i := 0; i < 5000; i++ {
				d, err := s.CreatePending(ctx, u.ID, fmt.Sprintf("doc-%d.txt", i), "text/plain", 0)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.ConfirmUpload(ctx, u.ID, d.ID, 1, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("baseline-raw-select", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					rows, err := s.DB().QueryContext(ctx, `SELECT id, filename FROM documents WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 51`, u.ID)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
					}
					rows.Close()
				}
			})
			b.Run("list-documents-page", func(b *testing.B) {
				var cursor *store.Cursor
				for i := 0; i < b.N; i++ {
					_, next, err := s.ListDocuments(ctx, u.ID, store.DocumentFilter{Limit: 50, After: cursor})
					if err != nil {
						b.Fatal(err)
					}
					cursor = next // walk the pages; start over at the end
				}
			})
		})
	}
}

func newBenchStore(b *testing.B, dialect string) *store.Store {
	b.Helper()
	s, err := store.Open(context.Background(), dialect, testenv.DSN(b, dialect))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.MigrateUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

func mustUserB(b *testing.B, s *store.Store) store.User {
	u, err := s.CreateUser(context.Background(), store.NewUser{Username: "bench", PasswordHash: "x", Role: store.RoleUser, LimitBytes: 1 << 50})
	if err != nil {
		b.Fatal(err)
	}
	return u
}
