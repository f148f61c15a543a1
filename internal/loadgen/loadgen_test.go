package loadgen_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/loadgen"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// TestLoadgenSmoke seeds a small corpus on each database and runs every measurement once
// over it: the tool the README's performance table comes from keeps working.
func TestLoadgenSmoke(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, d, testenv.DSN(t, d))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			c, err := loadgen.Seed(ctx, st, loadgen.Options{Documents: 2000, Users: 4, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := st.DB().QueryRow(`SELECT COUNT(*) FROM documents WHERE user_id = $1`, c.Users[0].ID).Scan(&n); err != nil || n != 200 {
				t.Fatalf("the big user holds %d documents (%v), want a tenth of 2000", n, err)
			}
			docs, _, err := st.ListDocuments(ctx, c.Users[0].ID, store.DocumentFilter{Query: "the", Limit: 50})
			if err != nil || len(docs) != 50 {
				t.Fatalf("search for the: %d documents, %v", len(docs), err)
			}
			figs, err := loadgen.Measure(ctx, st, c, 3)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			loadgen.Print(&out, figs)
			for _, want := range []string{"search, a common word", "upload: confirm", "delete"} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("table lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestSeedUser: an existing user gets the documents in bulk, counted in the quota, and a
// city is in a few percent of them, found by a prefix as someone typing would search.
func TestSeedUser(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, d, testenv.DSN(t, d))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			u, err := st.CreateUser(ctx, store.NewUser{Username: "reader", PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA", Role: store.RoleUser, LimitBytes: 1 << 50})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := loadgen.SeedUser(ctx, st, u.ID, 3000, 1); err != nil {
				t.Fatal(err)
			}
			t.Logf("seeded 3000 documents in %v", time.Since(start).Round(time.Millisecond))
			q, err := st.QuotaOf(ctx, u.ID)
			if err != nil || q.DocumentCount != 3000 || q.UsedBytes < 3000*20000 {
				t.Fatalf("quota after seeding: %+v %v", q, err)
			}
			docs, _, err := st.ListDocuments(ctx, u.ID, store.DocumentFilter{Query: "lisbo", Limit: 200})
			if err != nil || len(docs) < 20 || len(docs) > 200 {
				t.Fatalf("search for lisbo: %d documents, %v", len(docs), err)
			}
			for _, d := range docs {
				if d.Snippet == nil || !strings.Contains(*d.Snippet, "<mark>") {
					t.Fatalf("match without a marked snippet: %v", d.Snippet)
				}
			}
		})
	}
}
