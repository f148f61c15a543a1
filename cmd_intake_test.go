package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// TestServeConsumesFolder: `serve` with intake.consume_dir makes the users' folders and
// turns a dropped file into a document; shutdown stops the watcher.
func TestServeConsumesFolder(t *testing.T) {
	dir := t.TempDir()
	consume := filepath.Join(dir, "consume")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := envMap("DOCUVAULT_SERVER_DATA_DIR", dir, "DOCUVAULT_SERVER_LISTEN", addr,
		"DOCUVAULT_INTAKE_CONSUME_DIR", consume, "DOCUVAULT_INTAKE_SETTLE", "50ms", "DOCUVAULT_INTAKE_RESCAN", "100ms")
	var out bytes.Buffer
	if code := runContext(context.Background(), []string{"user", "create", "-username", "ada", "-password", "a long password here"}, &out, &out, env); code != 0 {
		t.Fatal(out.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stderr testenv.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- runContext(ctx, []string{"serve"}, &bytes.Buffer{}, &stderr, env) }()
	folder := filepath.Join(consume, "ada")
	waitUntil(t, "ada's consume folder", func() bool { _, err := os.Stat(folder); return err == nil })
	if err := os.WriteFile(filepath.Join(folder, "scan.txt"), []byte("a scanned page"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the file to be taken", func() bool { _, err := os.Stat(filepath.Join(folder, "scan.txt")); return os.IsNotExist(err) })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d; log %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "consume folders watched") {
		t.Fatalf("log: %s", stderr.String())
	}
	cfg, _ := loadConfig("", env)
	st, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByUsername(context.Background(), "ada")
	if err != nil {
		t.Fatal(err)
	}
	docs, _, err := st.ListDocuments(context.Background(), u.ID, store.DocumentFilter{Limit: 5})
	if err != nil || len(docs) != 1 || docs[0].Filename != "scan.txt" || docs[0].Status == store.StatusPending {
		t.Fatalf("documents %+v, %v", docs, err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
