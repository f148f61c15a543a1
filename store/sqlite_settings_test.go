package store_test

import (
	"context"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// TestSQLiteConnectionSettings: SQLite connections (the reads' and the writes' pools open
// them from one connector) run in WAL mode with NORMAL sync and a page cache of 256 KiB (the operating system caches the
// file as well; SQLite's default of 2 MiB per connection was most of a server's growth in
// memory after its first requests).
func TestSQLiteConnectionSettings(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, store.SQLite)
	check := func(what string, query func(q string) (any, error)) {
		t.Helper()
		for q, want := range map[string]any{"PRAGMA cache_size": int64(-256), "PRAGMA journal_mode": "wal", "PRAGMA synchronous": int64(1)} {
			got, err := query(q)
			if err != nil || got != want {
				t.Errorf("%s: %s = %v (%v), want %v", what, q, got, err, want)
			}
		}
	}
	check("read connection", func(q string) (any, error) {
		var v any
		err := s.DB().QueryRowContext(ctx, q).Scan(&v)
		return v, err
	})
}
