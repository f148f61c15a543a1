package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// TestMigrationsConcurrentStart starts three processes of the binary at once on an empty
// database, each migrating up (as replicas do at start): all succeed, every migration runs
// once, and the schema is exactly the one a single process builds.
func TestMigrationsConcurrentStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it three times")
	}
	dir := t.TempDir()
	bin := binary(t)
	for _, dialect := range testenv.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			dsn := testenv.DSN(t, dialect)
			var wg sync.WaitGroup
			outs := make([][]byte, 3)
			errs := make([]error, 3)
			cmds := make([]*exec.Cmd, 3)
			for i := range cmds {
				cmds[i] = exec.Command(bin, "migrate", "up")
				cmds[i].Env = append(os.Environ(), "DOCUVAULT_SERVER_DATA_DIR="+filepath.Join(dir, dialect, fmt.Sprint(i)),
					"DOCUVAULT_DATABASE_DRIVER="+dialect, "DOCUVAULT_DATABASE_DSN="+dsn)
			}
			start := make(chan struct{})
			for i, cmd := range cmds {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					outs[i], errs[i] = cmd.CombinedOutput()
				}()
			}
			close(start)
			wg.Wait()
			for i := range cmds {
				if errs[i] != nil {
					t.Errorf("process %d: %v\n%s", i, errs[i], outs[i])
				}
			}
			got := schemaOf(t, dialect, dsn)
			want := schemaOf(t, dialect, migratedOnce(t, dialect))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("schema after concurrent starts differs from a single start:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// migratedOnce is a fresh database of dialect migrated up by one store.
func migratedOnce(t *testing.T, dialect string) string {
	dsn := testenv.DSN(t, dialect)
	st, err := store.Open(context.Background(), dialect, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return dsn
}

var schemaName = regexp.MustCompile(`\bt_[0-9a-f]{12}\.`)

// schemaOf lists a database's tables, columns, indexes and migration rows, sorted.
func schemaOf(t *testing.T, dialect, dsn string) []string {
	t.Helper()
	driver, q := "sqlite", `SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`
	if dialect == store.Postgres {
		driver = "pgx"
		q = `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
				FROM information_schema.columns WHERE table_schema = current_schema()
			UNION ALL SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()`
	}
	if dialect == store.SQLite {
		dsn = "file:" + dsn + "?mode=ro"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := []string{}
	for _, query := range []string{q, `SELECT 'migrations row ' || version FROM migrations`} {
		rows, err := db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, schemaName.ReplaceAllString(s, ""))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}
