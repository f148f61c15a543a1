package server_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/export"
	"github.com/docuvault/docuvault/server"
)

// readZip downloads path and opens the answer as a zip: entry name → bytes.
func readZip(t *testing.T, c *client, path string) (map[string][]byte, *http.Response) {
	t.Helper()
	resp := c.request("GET", path, nil)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/zip" {
		t.Fatalf("GET %s: content type %q", path, ct)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("GET %s: not a zip: %v", path, err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("entry %s: %v", f.Name, err)
		}
		out[f.Name] = data
	}
	return out, resp
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestExportAllStreamsEveryOriginalAndManifest(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		alice, bob := e.member("alice"), e.member("bob")
		var topic map[string]any
		alice.call("POST", "/api/topics", map[string]any{"name": "Bills", "description": "to pay", "color": "#ff8800"}, 201, &topic)
		files := map[string][]byte{}
		ids := map[string]string{}
		for i, name := range []string{"report.pdf", "report.pdf", "REPORT.pdf", ".profile", "a:b.txt", "notes.txt", "Übersicht – 2024.txt"} {
			body := []byte(fmt.Sprintf("document %d of alice: %s", i, strings.Repeat("x", i*100)))
			id := uploadBytes(t, alice, name, "text/plain", body)
			files[id] = body
			ids[id] = name
		}
		var first string
		for id, name := range ids {
			if name == "notes.txt" {
				first = id
			}
		}
		alice.call("PATCH", "/api/documents/"+first, map[string]any{"topic_ids": []string{topic["id"].(string)}}, 200)
		bobDoc := uploadBytes(t, bob, "bob-secret.txt", "text/plain", []byte("bob only"))

		entries, resp := readZip(t, alice, "/api/export")
		if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "docuvault-export-") {
			t.Errorf("Content-Disposition %q", cd)
		}
		var m export.Manifest
		if err := json.Unmarshal(entries["manifest.json"], &m); err != nil {
			t.Fatalf("manifest: %v", err)
		}
		if m.Format != export.Format || m.Username != "alice" || len(m.Documents) != len(files) {
			t.Fatalf("manifest: format %q user %q documents %d, want %d", m.Format, m.Username, len(m.Documents), len(files))
		}
		if len(entries) != len(files)+1 {
			t.Fatalf("%d entries, want %d originals and the manifest", len(entries), len(files))
		}
		seen := map[string]bool{}
		for _, d := range m.Documents {
			if d.ID == bobDoc {
				t.Fatal("another user's document in the export")
			}
			body, ok := files[d.ID]
			if !ok {
				t.Fatalf("unknown document %s", d.ID)
			}
			if !bytes.Equal(entries[d.Path], body) || d.SHA256 != sum(body) || d.Size != int64(len(body)) {
				t.Errorf("%s (%s): bytes, checksum or size differ", d.Path, d.Filename)
			}
			if d.Filename != ids[d.ID] || d.ContentType != "text/plain" || d.CreatedAt.IsZero() || d.Text != nil {
				t.Errorf("manifest entry %+v", d)
			}
			if strings.ContainsAny(d.Path, "/\\") || seen[strings.ToLower(d.Path)] {
				t.Errorf("entry name %q unsafe or not unique", d.Path)
			}
			seen[strings.ToLower(d.Path)] = true
			if d.ID == first && (len(d.TopicIDs) != 1 || d.TopicIDs[0] != topic["id"]) {
				t.Errorf("topics of notes.txt: %v", d.TopicIDs)
			}
		}
		var found bool
		for _, tp := range m.Topics {
			if tp.ID == topic["id"] {
				found = tp.Name == "Bills" && tp.Description == "to pay" && tp.Color == "#ff8800" && !tp.System
			}
		}
		if !found {
			t.Errorf("topic missing or wrong in %+v", m.Topics)
		}
		for name := range entries {
			if strings.Contains(name, "bob") {
				t.Errorf("entry %q of another user", name)
			}
		}

		entries, _ = readZip(t, alice, "/api/export?text=true")
		if err := json.Unmarshal(entries["manifest.json"], &m); err != nil {
			t.Fatal(err)
		}
		for _, d := range m.Documents {
			if d.Text == nil {
				t.Errorf("text=true: %s has no text field", d.ID)
			}
		}
		if code := alice.status("GET", "/api/export?text=maybe", nil); code != 400 {
			t.Errorf("text=maybe: %d, want 400", code)
		}
	})
}

func TestZipChosenDocuments(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		alice, bob := e.member("alice"), e.member("bob")
		a1 := uploadBytes(t, alice, "a.txt", "text/plain", []byte("one"))
		a2 := uploadBytes(t, alice, "a.txt", "text/plain", []byte("two"))
		a3 := uploadBytes(t, alice, "b.pdf", "application/pdf", []byte("%PDF-1.4 three"))
		b1 := uploadBytes(t, bob, "bob.txt", "text/plain", []byte("bob's"))

		entries, _ := readZip(t, alice, "/api/documents/zip?ids="+a1+","+a2+"&ids="+a1)
		if len(entries) != 2 || string(entries["a.txt"]) != "one" || string(entries["a (2).txt"]) != "two" {
			t.Fatalf("entries %v", keys(entries))
		}
		if _, ok := entries["manifest.json"]; ok {
			t.Error("a bulk download has no manifest")
		}

		// Another user's id, an unknown id, a malformed id: 404 before any byte.
		for _, q := range []string{a1 + "," + b1, b1, a3 + ",00000000-0000-7000-8000-000000000000", a1 + ",not-an-id"} {
			resp := alice.request("GET", "/api/documents/zip?ids="+q, nil)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 404 || resp.Header.Get("Content-Type") == "application/zip" || bytes.Contains(b, []byte("one")) {
				t.Errorf("ids=%s: %d %s", q, resp.StatusCode, b)
			}
		}
		many := make([]string, 501)
		for i := range many {
			many[i] = a1
		}
		if code := alice.status("GET", "/api/documents/zip?ids="+strings.Join(many, ","), nil); code != 400 {
			t.Errorf("501 ids: %d, want 400", code)
		}
		if code := alice.status("GET", "/api/documents/zip", nil); code != 400 {
			t.Errorf("no ids: %d, want 400", code)
		}
		if code := e.anonymous().status("GET", "/api/documents/zip?ids="+a1, nil); code != 401 {
			t.Errorf("anonymous: %d, want 401", code)
		}
		if code := e.anonymous().status("GET", "/api/export", nil); code != 401 {
			t.Errorf("anonymous export: %d, want 401", code)
		}
		admin := e.admin("root")
		for _, p := range []string{"/api/documents/zip?ids=" + a1, "/api/export"} {
			if code := admin.status("GET", p, nil); code != 403 {
				t.Errorf("admin %s: %d, want 403", p, code)
			}
		}
		// A pending document (no bytes yet) is not downloadable.
		tk := startUpload(t, alice, "pending.txt", "text/plain", []byte("later"))
		if code := alice.status("GET", "/api/documents/zip?ids="+tk.DocumentID, nil); code != 404 {
			t.Errorf("pending document: %d, want 404", code)
		}
	})
}

func keys(m map[string][]byte) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestZipCutWhenAFileFailsMidway: a file that cannot be read after the zip has started is
// not skipped silently: the connection is cut, so the client sees a broken download rather
// than a complete-looking zip with a file missing. Before the first byte, the same failure
// is an ordinary 503.
func TestZipCutWhenAFileFailsMidway(t *testing.T) {
	root := t.TempDir()
	e := newEnv(t, "sqlite", "local", func(o *server.Options) {
		b, err := blob.NewLocal(root, []byte("test-upload-secret-0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		o.Blobs = b
	})
	alice := e.member("alice")
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: the answer is under way when the second file fails
	a1 := uploadBytes(t, alice, "first.bin", "application/octet-stream", big)
	a2 := uploadBytes(t, alice, "second.bin", "application/octet-stream", []byte("second"))
	p := filepath.Join(root, "u", alice.user.ID, a2)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o750); err != nil { // opens, but every read fails
		t.Fatal(err)
	}
	resp := alice.request("GET", "/api/documents/zip?ids="+a1+","+a2, nil)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		if _, zerr := zip.NewReader(bytes.NewReader(b), int64(len(b))); zerr == nil {
			t.Fatalf("a complete zip came back (status %d, %d bytes) although a file failed", resp.StatusCode, len(b))
		}
	}
	resp = alice.request("GET", "/api/documents/zip?ids="+a2, nil)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Content-Type") == "application/zip" {
		t.Errorf("failure before the first byte: %d %s", resp.StatusCode, b)
	}
}
