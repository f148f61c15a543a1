package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// TestAdd runs `docuvault add` over files and folders: a folder is walked recursively
// without hidden and temporary files, a refused file is named with its reason and makes
// the exit code 1, and what was added is the user's documents.
func TestAdd(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := []string{"DOCUVAULT_SERVER_DATA_DIR", data, "DOCUVAULT_QUOTA_MAX_UPLOAD_BYTES", "1000"}
	docs := filepath.Join(dir, "docs")
	for name, body := range map[string]string{
		"letter.pdf": "%PDF letter", "taxes/2025/return.txt": "return", "taxes/receipt.txt": "receipt",
		".hidden.pdf": "x", "taxes/.git/config": "x", "draft.docx.part": "x", "~$draft.docx": "x",
	} {
		p := filepath.Join(docs, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := filepath.Join(dir, "big.bin")
	os.WriteFile(big, bytes.Repeat([]byte("x"), 1001), 0o644)
	single := filepath.Join(dir, "single.txt")
	os.WriteFile(single, []byte("one"), 0o644)
	for _, args := range [][]string{
		{"user", "create", "-username", "alice", "-password", "a long password here"},
		{"user", "create", "-username", "boss", "-password", "a long password here", "-admin"},
	} {
		var out, errOut bytes.Buffer
		if code := runContext(context.Background(), args, &out, &errOut, envMap(env...)); code != 0 {
			t.Fatal(errOut.String())
		}
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no user", []string{"add", single}, 2, "", "-user is required"},
		{"no paths", []string{"add", "-user", "alice"}, 2, "", "name at least one file or folder"},
		{"unknown user", []string{"add", "-user", "nobody", single}, 1, "", `no user "nobody"`},
		{"admin", []string{"add", "-user", "boss", single}, 1, "", "cannot hold documents"},
		{"missing path", []string{"add", "-user", "alice", filepath.Join(dir, "nope.pdf")}, 1, "", "no such file"},
		{"a folder, recursively", []string{"add", "-user", "alice", docs}, 0, "3 added, 0 not added, of 3 files", ""},
		{"a file and one too large", []string{"add", "-user", "alice", single, big}, 1, "refused  " + big + ": file larger than the maximum upload size", "some files were not added"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runContext(context.Background(), tc.args, &stdout, &stderr, envMap(env...))
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("stdout %q (want %q), stderr %q (want %q)", stdout.String(), tc.stdout, stderr.String(), tc.stderr)
			}
		})
	}
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(data, "docuvault.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByUsername(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := st.ListDocuments(context.Background(), u.ID, store.DocumentFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range list {
		got[d.Filename] = d.Status
	}
	want := []string{"letter.pdf", "return.txt", "receipt.txt", "single.txt"}
	if len(got) != len(want) {
		t.Fatalf("documents %v, want %v", got, want)
	}
	for _, n := range want {
		if got[n] != store.StatusUploaded {
			t.Fatalf("%s: %q in %v", n, got[n], got)
		}
	}
}
