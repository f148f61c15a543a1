// Package testenv gives tests the real services they run against: a fresh SQLite file, a
// fresh Postgres schema, a fresh MinIO bucket. A service that is not configured skips the
// test with a reason, except under CI=true, where it fails it.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/docuvault/docuvault/blob"
)

// Environment variables scripts/test sets.
const (
	EnvPostgres    = "DOCUVAULT_TEST_POSTGRES"     // base Postgres URL
	EnvMinIO       = "DOCUVAULT_TEST_MINIO"        // host:port
	EnvMinIOAccess = "DOCUVAULT_TEST_MINIO_ACCESS" // access key
	EnvMinIOSecret = "DOCUVAULT_TEST_MINIO_SECRET" // secret key
	EnvChromium    = "DOCUVAULT_TEST_CHROMIUM"     // path of the browser
)

// Missing skips t (or fails it under CI=true) because service is not configured.
func Missing(t testing.TB, service, env string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: set %s (scripts/test does)", service, env)
	}
	t.Skipf("skipping: %s not available (set %s, or run scripts/test)", service, env)
}

// Dialects lists the databases a store test runs on: SQLite always, Postgres when configured.
func Dialects() []string { return []string{"sqlite", "postgres"} }

// Name returns a short random lowercase name with prefix.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// DSN returns a fresh database for dialect: a new SQLite file, or a new Postgres schema
// dropped when the test ends.
func DSN(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "sqlite":
		return filepath.Join(t.TempDir(), "docuvault.db")
	case "postgres":
		return PostgresDSN(t)
	}
	t.Fatalf("unknown dialect %q", dialect)
	return ""
}

// PostgresDSN creates a schema of its own on the configured server and returns a URL whose
// search_path points at it.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		Missing(t, "PostgreSQL", EnvPostgres)
	}
	schema := Name("t_")
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Named after its schema, so a test that ends its own connections (pg_terminate_backend
	// by application_name) never ends another test's.
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// MinIO returns the configuration of a fresh bucket on the configured MinIO server.
func MinIO(t testing.TB) blob.S3Config {
	t.Helper()
	ep := os.Getenv(EnvMinIO)
	if ep == "" {
		Missing(t, "MinIO", EnvMinIO)
	}
	return blob.S3Config{
		Endpoint:  strings.TrimPrefix(ep, "http://"),
		AccessKey: os.Getenv(EnvMinIOAccess),
		SecretKey: os.Getenv(EnvMinIOSecret),
		Bucket:    strings.ReplaceAll(Name("test-"), "_", "-"),
		Region:    "us-east-1",
	}
}

// Chromium returns the browser's path.
func Chromium(t testing.TB) string {
	t.Helper()
	p := os.Getenv(EnvChromium)
	if p == "" {
		Missing(t, "Chromium", EnvChromium)
	}
	return p
}
