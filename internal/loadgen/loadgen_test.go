package loadgen_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
