package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// forEachDialect runs fn once per database, each with a fresh, migrated store.
func forEachDialect(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			fn(t, newTestStore(t, d))
		})
	}
}

// newTestStore opens a fresh database of dialect and migrates it up.
func newTestStore(t *testing.T, dialect string, opts ...store.Option) *store.Store {
	t.Helper()
	s := openTestStore(t, dialect, opts...)
	if err := s.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func openTestStore(t *testing.T, dialect string, opts ...store.Option) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := store.Open(ctx, dialect, testenv.DSN(t, dialect), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// brokenBlobs is a blob store that is down.
type brokenBlobs struct{}

func (brokenBlobs) Delete(context.Context, string) error { return errors.New("connection refused") }

func mustUser(t *testing.T, s *store.Store, name, role string, limit int64) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.NewUser{Username: name, PasswordHash: "x", Role: role, LimitBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSQLitePathWithURICharacters: a folder named with '#' and '%' (as Go names repeated
// subtests, "sqlite#01") holds the database file, not some prefix of the path.
func TestSQLitePathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#01 100%")
	path := filepath.Join(dir, "docuvault.db")
	st, err := store.Open(context.Background(), store.SQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at its path: %v", err)
	}
}
