package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/store"
)

// seedDocuments inserts n confirmed documents for the user in one statement, with names and
// sizes that repeat (ties), as a large collection would have them.
func seedDocuments(t testing.TB, s *store.Store, userID string, n int) {
	t.Helper()
	ctx := context.Background()
	var q string
	if s.Dialect() == store.Postgres {
		q = `INSERT INTO documents (id, user_id, filename, name_key, content_type, object_key, size_bytes, status, created_at)
			SELECT gen_random_uuid()::text, $1, 'doc ' || (i % 97), 'doc ' || (i % 97), 'text/plain', $1 || '/' || i, i % 113, 'classified',
				now() - (i || ' seconds')::interval FROM generate_series(1, $2::int) AS i`
	} else {
		q = `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $2)
			INSERT INTO documents (id, user_id, filename, name_key, content_type, object_key, size_bytes, status, created_at)
			SELECT lower(printf('%s-%s-4%s-a%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
				substr(hex(randomblob(2)), 2), hex(randomblob(6)))), $1, 'doc ' || (i % 97), 'doc ' || (i % 97), 'text/plain', $1 || '/' || i, i % 113, 'classified',
				datetime('now', '-' || i || ' seconds') FROM seq`
	}
	if _, err := s.DB().ExecContext(ctx, q, userID, n); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `ANALYZE documents`); err != nil {
		t.Fatal(err)
	}
}

// TestSortedListPagesUseIndexes: on both databases, with thousands of documents for two
// users, the first page and a later page of every order and direction read one of the list
// indexes in its order — no sort of the user's documents, no scan of the table — so page N
// costs what page 1 does at any size.
func TestSortedListPagesUseIndexes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		alice := mustUser(t, s, "alice", "user", 1<<40)
		bob := mustUser(t, s, "bob", "user", 1<<40)
		seedDocuments(t, s, alice.ID, 1500)
		seedDocuments(t, s, bob.ID, 1500)
		id := "0b7f3e4c-58d4-4a57-9a0c-6a7f2d1d8e11"
		for _, o := range []string{store.SortCreated, store.SortName, store.SortSize} {
			for _, asc := range []bool{false, true} {
				after := &store.Cursor{Sort: o, Asc: asc, ID: id, At: time.Now().Add(-time.Hour).UTC(), Name: "doc 5", Size: 50}
				for _, c := range []*store.Cursor{nil, after} {
					q, args := store.SortedListSQL(o, asc, c, alice.ID)
					plan := explain(t, s, q, args)
					index := "ix_documents_list_" + o
					if !strings.Contains(plan, index) {
						t.Errorf("%s asc=%v page>1=%v: plan does not use %s:\n%s", o, asc, c != nil, index, plan)
					}
					if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort") || strings.Contains(plan, "Seq Scan") ||
						strings.Contains(plan, "SCAN d ") || strings.HasSuffix(plan, "SCAN d") {
						t.Errorf("%s asc=%v page>1=%v: plan sorts or scans:\n%s", o, asc, c != nil, plan)
					}
				}
			}
		}
	})
}

// explain is the database's plan of q, one line per step.
func explain(t *testing.T, s *store.Store, q string, args []any) string {
	t.Helper()
	prefix := `EXPLAIN `
	if s.Dialect() == store.SQLite {
		prefix = `EXPLAIN QUERY PLAN `
	}
	rows, err := s.DB().Query(prefix+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		dest := make([]any, len(cols))
		var text string
		for i := range dest {
			dest[i] = new(any)
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		if v, ok := (*dest[len(dest)-1].(*any)).(string); ok {
			text = v
		}
		lines = append(lines, text)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestTopicCountsReadOnlyTheUsersDocuments: the per-topic counts of a user read that user's
// range of a list index and each document's topics by key — no scan of all documents or of
// all assignments — on both databases.
func TestTopicCountsReadOnlyTheUsersDocuments(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		alice := mustUser(t, s, "alice", "user", 1<<40)
		bob := mustUser(t, s, "bob", "user", 1<<40)
		seedDocuments(t, s, alice.ID, 100)
		seedDocuments(t, s, bob.ID, 3000)
		ctx := context.Background()
		topic, err := s.CreateTopic(ctx, nil, "system", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO document_topics (document_id, topic_id, source)
			SELECT id, $1, 'ai' FROM documents`, topic.ID); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"documents", "document_topics"} {
			if _, err := s.DB().ExecContext(ctx, `ANALYZE `+table); err != nil {
				t.Fatal(err)
			}
		}
		plan := explain(t, s, store.TopicCountsSQL(s), []any{alice.ID, false})
		// Any index led by user_id serves the user's range (PostgreSQL may pick the
		// (user_id, sha256) one); what must not appear is a scan of a whole table.
		if !(strings.Contains(plan, "ix_documents_list_") || strings.Contains(plan, "ix_documents_user_")) || strings.Contains(plan, "Seq Scan on documents") ||
			strings.Contains(plan, "SCAN d ") || strings.HasSuffix(plan, "SCAN d") || strings.Contains(plan, "SCAN dt") ||
			strings.Contains(plan, "Seq Scan on document_topics") {
			t.Fatalf("topic counts plan reads beyond the user's documents:\n%s", plan)
		}
		t.Logf("plan:\n%s", plan)
		counts, err := s.TopicDocumentCounts(ctx, alice.ID)
		if err != nil || counts[topic.ID] != 100 {
			t.Fatalf("counts %v, %v", counts, err)
		}
	})
}
