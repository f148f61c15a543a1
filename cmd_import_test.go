package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportImportCommands: import-paperless fills a vault (dry run first), export writes
// the zip, import takes it into another user's vault and a second import skips everything.
func TestExportImportCommands(t *testing.T) {
	dir := t.TempDir()
	env := envMap("DOCUVAULT_SERVER_DATA_DIR", filepath.Join(dir, "data"))
	run := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := runContext(context.Background(), args, &stdout, &stderr, env)
		return code, stdout.String() + stderr.String()
	}
	if code, out := run("migrate", "up"); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	for _, u := range []string{"alice", "bob"} {
		if code, out := run("user", "create", "-username", u, "-password", "a long enough password"); code != 0 {
			t.Fatalf("user create: %d %s", code, out)
		}
	}
	pl := filepath.Join(dir, "paperless")
	if err := os.MkdirAll(pl, 0o750); err != nil {
		t.Fatal(err)
	}
	var manifest []any
	manifest = append(manifest, map[string]any{"model": "documents.tag", "pk": 7, "fields": map[string]any{"name": "Bank", "color": "#00aa00"}})
	for i, body := range []string{"statement one", "statement two"} {
		sum := md5.Sum([]byte(body))
		name := []string{"a.txt", "b.txt"}[i]
		if err := os.WriteFile(filepath.Join(pl, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		manifest = append(manifest, map[string]any{"model": "documents.document", "pk": i + 1, "__exported_file_name__": name,
			"fields": map[string]any{"title": "Statement " + name[:1], "content": "content " + body, "checksum": hex.EncodeToString(sum[:]),
				"mime_type": "text/plain", "original_filename": name, "tags": []int{7}}})
	}
	b, _ := json.Marshal(manifest)
	if err := os.WriteFile(filepath.Join(pl, "manifest.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := run("import-paperless", "-in", pl, "-user", "alice", "-dry-run"); code != 0 || !strings.Contains(out, "26 bytes needed") || !strings.Contains(out, "fits") {
		t.Fatalf("dry run: %d %s", code, out)
	}
	if code, out := run("import-paperless", "-in", pl, "-user", "alice"); code != 0 || !strings.Contains(out, "imported 2 of 2 files") {
		t.Fatalf("import-paperless: %d %s", code, out)
	}
	zipPath := filepath.Join(dir, "alice.zip")
	if code, out := run("export", "-out", zipPath, "-user", "alice", "-text"); code != 0 || !strings.Contains(out, "exported 2 documents (26 bytes)") {
		t.Fatalf("export: %d %s", code, out)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if strings.Join(names, ",") != "Statement a.txt,Statement b.txt,manifest.json" {
		t.Errorf("zip entries %v", names)
	}
	if code, out := run("import", "-in", zipPath, "-user", "bob"); code != 0 || !strings.Contains(out, "imported 2 of 2 files") || !strings.Contains(out, "1 topics added") {
		t.Fatalf("import: %d %s", code, out)
	}
	if code, out := run("import", "-in", zipPath, "-user", "bob"); code != 0 || !strings.Contains(out, "imported 0 of 2 files (0 bytes), 2 already there") {
		t.Fatalf("second import: %d %s", code, out)
	}
	if code, out := run("export", "-out", filepath.Join(dir, "x.zip")); code != 2 || !strings.Contains(out, "-user is required") {
		t.Fatalf("export without -user on two users: %d %s", code, out)
	}
	if code, out := run("import", "-in", zipPath, "-user", "nobody"); code != 2 || !strings.Contains(out, `no user "nobody"`) {
		t.Fatalf("import for an unknown user: %d %s", code, out)
	}
	if code, out := run("import-paperless", "-in", filepath.Join(dir, "nothing-here"), "-user", "bob"); code != 1 || !strings.Contains(out, "no such file") || strings.Contains(out, "imported") {
		t.Fatalf("import-paperless of a missing folder: %d %s", code, out)
	}
}
