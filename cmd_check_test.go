package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckCommand: `docuvault check` prints its report and exits 1 on an orphan object;
// `-fix` deletes it and exits 0; the usage names the command.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	env := envMap("DOCUVAULT_SERVER_DATA_DIR", dir)
	run := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := runContext(context.Background(), args, &stdout, &stderr, env)
		return code, stdout.String() + stderr.String()
	}
	if code, out := run("migrate", "up"); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	if code, out := run("check"); code != 0 || !strings.Contains(out, "documents checked: 0") {
		t.Fatalf("check of an empty instance: %d %s", code, out)
	}
	orphan := filepath.Join(dir, "blobs", "u", "someone", "lost")
	if err := os.MkdirAll(filepath.Dir(orphan), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan, []byte("lost bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(orphan, old, old); err != nil {
		t.Fatal(err)
	}
	if code, out := run("check"); code != 1 || !strings.Contains(out, "orphan") || !strings.Contains(out, "key=u/someone/lost") {
		t.Fatalf("check with an orphan: %d %s", code, out)
	}
	if code, out := run("check", "-fix"); code != 0 || !strings.Contains(out, "(fixed)") {
		t.Fatalf("check -fix: %d %s", code, out)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan kept by -fix: %v", err)
	}
	if code, out := run("--help"); code != 0 || !strings.Contains(out, "docuvault check [-fix]") {
		t.Fatalf("usage: %s", out)
	}
}
