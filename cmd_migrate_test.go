package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateDownSaysOwnerlessDeletionIsOneWay: `docuvault migrate down` tells the operator,
// at the step that reverts 0003 and only there, that the documents 0003 deleted stay deleted.
func TestMigrateDownSaysOwnerlessDeletionIsOneWay(t *testing.T) {
	env := envMap("DOCUVAULT_SERVER_DATA_DIR", filepath.Join(t.TempDir(), "data"))
	migrate := func(action string) string {
		var stdout, stderr bytes.Buffer
		if code := runContext(context.Background(), []string{"migrate", action}, &stdout, &stderr, env); code != 0 {
			t.Fatalf("migrate %s: exit %d: %s", action, code, stderr.String())
		}
		return stdout.String()
	}
	migrate("up")
	for {
		out := migrate("down")
		oneWay := strings.Contains(out, "one-way")
		if strings.Contains(out, "migrated down to 0002-") {
			if !oneWay || !strings.Contains(out, "documents that had no owner") {
				t.Fatalf("reverting 0003 printed %q, want the note that its deletion is one-way", out)
			}
			return
		}
		if oneWay {
			t.Fatalf("a step other than 0003 printed the note: %q", out)
		}
		if strings.Contains(out, "(empty)") {
			t.Fatal("never reverted 0003")
		}
	}
}
