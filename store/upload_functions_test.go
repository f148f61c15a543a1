package store_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// TestUploadFunctionsUseIndexes: PostgreSQL reserves and confirms an upload in one statement
// each (reserve_upload and confirm_upload, migration 0020), whose own statements a plan of
// the call does not show. Each runs here in a transaction with sequential scans priced out,
// and the tables' statistics must count no sequential scan of any table meanwhile: a
// statement with no index to use would still scan. A probe without an index shows the check
// sees one.
func TestUploadFunctionsUseIndexes(t *testing.T) {
	if !slices.Contains(testenv.Dialects(), store.Postgres) {
		t.Skip("PostgreSQL is not configured")
	}
	ctx := context.Background()
	s := newTestStore(t, store.Postgres)
	u := mustUser(t, s, "alice", store.RoleUser, 1<<30)
	// Another document with other bytes, so the duplicate check has rows to look through.
	other, err := s.CreatePending(ctx, u.ID, "a.txt", "text/plain", 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmUpload(ctx, u.ID, other.ID, 3, "aaaa"); err != nil {
		t.Fatal(err)
	}

	scans := func(t *testing.T, run func(tx *sql.Tx) error) []string {
		t.Helper()
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The counts are read from pg_stat_user_tables, which holds what backends reported:
		// each reading first makes this backend report what it holds (it reports when idle
		// outside a transaction, at most once a second unless told to; a view of the counts a
		// backend still holds back proved unreliable under load). The tables are this test's
		// schema's alone, and only this connection reads them while it counts.
		counts := func() map[string]int64 {
			if _, err := conn.ExecContext(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
				t.Fatal(err)
			}
			rows, err := conn.QueryContext(ctx, `SELECT relname, seq_scan FROM pg_stat_user_tables WHERE schemaname = current_schema()`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			m := map[string]int64{}
			for rows.Next() {
				var n string
				var c int64
				if err := rows.Scan(&n, &c); err != nil {
					t.Fatal(err)
				}
				m[n] = c
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return m
		}
		before := counts()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			t.Fatal(err)
		}
		err = run(tx)
		if rerr := tx.Rollback(); err == nil {
			err = rerr
		}
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for n, c := range counts() {
			if c > before[n] {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		return names
	}

	probe := scans(t, func(tx *sql.Tx) error {
		var n int
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents WHERE content_type = 'x'`).Scan(&n)
	})
	if !slices.Contains(probe, "documents") {
		t.Fatalf("the probe's scan of documents not seen: %v", probe)
	}

	id := uuid.Must(uuid.NewV7()).String()
	seen := scans(t, func(tx *sql.Tx) error {
		now := time.Now()
		if _, err := tx.ExecContext(ctx, `SELECT reserve_upload($1, $2, 'b.txt', 'text/plain', $3, 4, $4, 'b.txt', 0, true)`,
			id, u.ID, store.ObjectKeyFor(u.ID, id), now); err != nil {
			return err
		}
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM confirm_upload($1, $2, 4, 'bbbb', $3, true)`, id, u.ID, now).Scan(&status); err != nil {
			return err
		}
		if status != store.StatusUploaded {
			t.Errorf("status after confirm_upload %q", status)
		}
		return nil
	})
	if len(seen) > 0 {
		t.Errorf("sequential scans of %v while reserving and confirming an upload", seen)
	}
}
