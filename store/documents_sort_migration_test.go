package store_test

import (
	"context"
	"sort"
	"testing"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/docuvault/docuvault/store"
)

// TestMigration0015KeysAndCountsExistingDocuments: documents written before the migration
// (more than one batch of them, names in any script and case) get their case-folded name
// keys from the migration's Go step, and each quota row its document count.
func TestMigration0015KeysAndCountsExistingDocuments(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		known, _ := s.Versions()
		i := sort.SearchStrings(known, "0015-documents-sort-trash")
		if err := s.MigrateTo(ctx, known[i-1]); err != nil {
			t.Fatal(err)
		}
		alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
		bob := mustUser(t, s, "bob", store.RoleUser, 1<<30)
		series := `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 1100) SELECT i FROM seq`
		id := `lower(hex(randomblob(16)))`
		if s.Dialect() == store.Postgres {
			series, id = `SELECT i FROM generate_series(1, 1100) AS i`, `gen_random_uuid()::text`
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes, status, created_at)
			SELECT `+id+`, $1, CASE WHEN i % 3 = 0 THEN 'ÄRZTE ' || i WHEN i % 3 = 1 THEN 'STRASSE ' || i ELSE 'Straße ' || i END,
				'text/plain', 'k/' || i, i, 'classified', CURRENT_TIMESTAMP FROM (`+series+`) AS n`, alice.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes, status, created_at)
			VALUES ('0b7f3e4c-58d4-4a57-9a0c-6a7f2d1d8e11', $1, 'Émile', 'text/plain', 'k/bob', 1, 'classified', CURRENT_TIMESTAMP)`, bob.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := s.DB().QueryContext(ctx, `SELECT filename, name_key FROM documents`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var name, key string
			if err := rows.Scan(&name, &key); err != nil {
				t.Fatal(err)
			}
			if want := cases.Fold().String(norm.NFC.String(name)); key != want {
				t.Fatalf("%q: key %q, want %q", name, key, want)
			}
			n++
		}
		rows.Close()
		if n != 1101 {
			t.Fatalf("%d documents", n)
		}
		for u, want := range map[string]int64{alice.ID: 1100, bob.ID: 1} {
			q, err := s.QuotaOf(ctx, u)
			if err != nil || q.DocumentCount != want || q.TrashCount != 0 || q.TrashBytes != 0 {
				t.Fatalf("quota %+v, %v; want %d documents", q, err, want)
			}
		}
		docs, _, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Sort: store.SortName, Asc: true, Limit: 2})
		if err != nil || len(docs) != 2 || docs[0].Filename != "STRASSE 1" {
			t.Fatalf("first by name: %v, %v", docs, err)
		}
	})
}
