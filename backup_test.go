package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// TestBackupRestore backs up a live SQLite install and restores it into an empty place:
// accounts, documents and stored bytes come back the same.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	env := envMap("DOCUVAULT_SERVER_DATA_DIR", src)
	var out, errb bytes.Buffer
	if code := runContext(ctx, []string{"user", "create", "-username", "alice", "-password", "alice long password"}, &out, &errb, env); code != 0 {
		t.Fatalf("user create: %s", errb.String())
	}
	cfg, err := loadConfig("", env)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := st.UserByUsername(ctx, "alice")
	d, err := st.CreatePending(ctx, u.ID, "scan.pdf", "application/pdf", 0)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 200_000)
	rand.Read(body)
	blobs, err := openBlobs(ctx, cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blobs.Put(ctx, d.ObjectKey, bytes.NewReader(body), 1<<20, "application/pdf"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ConfirmUpload(ctx, u.ID, d.ID, int64(len(body)), ""); err != nil {
		t.Fatal(err)
	}
	// The server keeps the database open (a live backup).
	archive := filepath.Join(t.TempDir(), "backup.tar.gz")
	out.Reset()
	if code := runContext(ctx, []string{"backup", "-out", archive}, &out, &errb, env); code != 0 {
		t.Fatalf("backup: %s", errb.String())
	}
	st.Close()
	if !strings.Contains(out.String(), "1 stored files") {
		t.Fatalf("backup said %q", out.String())
	}

	dst := t.TempDir()
	denv := envMap("DOCUVAULT_SERVER_DATA_DIR", dst)
	out.Reset()
	if code := runContext(ctx, []string{"restore", "-in", archive}, &out, &errb, denv); code != 0 {
		t.Fatalf("restore: %s", errb.String())
	}
	errb.Reset()
	if code := runContext(ctx, []string{"restore", "-in", archive}, &out, &errb, denv); code != 1 || !strings.Contains(errb.String(), "-force") {
		t.Fatalf("restore over an existing database: %d %s", code, errb.String())
	}
	restored, err := store.Open(ctx, "sqlite", filepath.Join(dst, "docuvault.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	got, err := restored.Document(ctx, u.ID, d.ID)
	if err != nil || got.Filename != "scan.pdf" || got.SizeBytes != int64(len(body)) {
		t.Fatalf("restored document %+v %v", got, err)
	}
	if q, _ := restored.QuotaOf(ctx, u.ID); q.UsedBytes != int64(len(body)) {
		t.Fatalf("restored quota %+v", q)
	}
	b, err := os.ReadFile(filepath.Join(dst, "blobs", filepath.FromSlash(d.ObjectKey)))
	if err != nil || !bytes.Equal(b, body) {
		t.Fatalf("restored bytes differ: %v", err)
	}

	errb.Reset()
	pg := envMap("DOCUVAULT_DATABASE_DRIVER", "postgres", "DOCUVAULT_DATABASE_DSN", "postgres://x@127.0.0.1:1/x")
	if code := runContext(ctx, []string{"backup", "-out", archive}, &out, &errb, pg); code != 1 || !strings.Contains(errb.String(), "pg_dump") {
		t.Fatalf("backup of Postgres: %d %s", code, errb.String())
	}
}
