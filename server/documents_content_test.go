package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/classify"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// withPool starts a classification pool on e's database and blobs and serves e through it.
func withPool(t *testing.T, e *env) *env {
	t.Helper()
	pool := classify.New(classify.Config{Workers: 2, PollInterval: 50 * time.Millisecond, Logger: e.opts.Logger}, e.store, e.blobs, nil)
	e = e.withQueue(pool)
	pool.Start()
	t.Cleanup(func() { _ = pool.Stop(context.Background()) })
	return e
}

// waitDocument polls the document until done says so (the worker runs in the background).
func waitDocument(t *testing.T, c *client, id string, done func(status int, d map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp := c.request("GET", "/api/documents/"+id, nil)
		var d map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if done(resp.StatusCode, d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("document %s: still %d %v", id, resp.StatusCode, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func classified(status int, d map[string]any) bool {
	return status == 200 && (d["status"] == "classified" || d["status"] == "classification_failed")
}

// TestDocumentText serves the extracted text as plain UTF-8 to the owner only.
func TestDocumentText(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e = withPool(t, e)
		alice, bob, admin := e.member("alice"), e.member("bob"), e.admin("root")
		id := uploadBytes(t, alice, "note.txt", "text/plain", []byte("Grüße from the quarterly invoice\x00 run"))
		waitDocument(t, alice, id, classified)
		resp := alice.request("GET", "/api/documents/"+id+"/text", nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("text: %d %v", resp.StatusCode, resp.Header)
		}
		if !strings.Contains(string(b), "Grüße from the quarterly invoice") || strings.ContainsRune(string(b), 0) {
			t.Fatalf("text = %q", b)
		}
		if code := bob.status("GET", "/api/documents/"+id+"/text", nil); code != 404 {
			t.Fatalf("another user's text: %d", code)
		}
		if code := admin.status("GET", "/api/documents/"+id+"/text", nil); code != 403 {
			t.Fatalf("admin reading text: %d", code)
		}
		if code := e.anonymous().status("GET", "/api/documents/"+id+"/text", nil); code != 401 {
			t.Fatalf("anonymous: %d", code)
		}
		tk := startUpload(t, alice, "later.txt", "text/plain", []byte("x"))
		if code := alice.status("GET", "/api/documents/"+tk.DocumentID+"/text", nil); code != 409 {
			t.Fatalf("pending document's text: %d", code)
		}
		if code := alice.status("GET", "/api/documents/not-a-uuid/text", nil); code != 404 {
			t.Fatalf("bad id: %d", code)
		}
	})
}

// TestPreviewHeaders shows safe types inline, sandboxed and unsniffed, and never HTML, SVG,
// Office files or unknown types; on S3 it redirects to a presigned inline GET.
func TestPreviewHeaders(t *testing.T) {
	cases := []struct {
		name, ct string
		body     string
		wantType string // "" = 415
	}{
		{"a.pdf", "application/pdf", "%PDF-1.4\n%%EOF\n", "application/pdf"},
		{"a.png", "image/png", "\x89PNG\r\n\x1a\n", "image/png"},
		{"a.jpg", "image/jpeg", "\xff\xd8\xff\xe0", "image/jpeg"},
		{"a.md", "text/markdown", "# <script>alert(1)</script>", "text/plain; charset=utf-8"},
		{"a.txt", "text/plain; charset=latin1", "plain", "text/plain; charset=utf-8"},
		{"a.html", "text/html", "<script>alert(1)</script>", ""},
		{"a.svg", "image/svg+xml", "<svg onload='alert(1)'/>", ""},
		{"a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "PK", ""},
		{"a.bin", "application/octet-stream", "??", ""},
		{"a.xhtml", "application/xhtml+xml", "<html/>", ""},
	}
	forEachCombination(t, func(t *testing.T, e *env) {
		alice, bob := e.member("alice"), e.member("bob")
		s3 := strings.Contains(t.Name(), "minio")
		for _, tc := range cases {
			id := uploadBytes(t, alice, tc.name, tc.ct, []byte(tc.body))
			resp := alice.request("GET", "/api/documents/"+id+"/preview", nil)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.wantType == "" {
				if resp.StatusCode != 415 || resp.Header.Get("Location") != "" || strings.Contains(string(b), tc.body) {
					t.Fatalf("%s: %d %v %s, want 415 without the bytes", tc.name, resp.StatusCode, resp.Header, b)
				}
				continue
			}
			h := resp.Header
			if s3 {
				if resp.StatusCode != http.StatusFound {
					t.Fatalf("%s: %d, want a redirect", tc.name, resp.StatusCode)
				}
				u, err := url.Parse(h.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				if q.Get("response-content-type") != tc.wantType || !strings.HasPrefix(q.Get("response-content-disposition"), "inline") {
					t.Fatalf("%s: presigned %s", tc.name, u)
				}
				got, err := http.Get(u.String())
				if err != nil {
					t.Fatal(err)
				}
				b, _ = io.ReadAll(got.Body)
				got.Body.Close()
				h = got.Header
				if got.StatusCode != 200 || h.Get("Content-Type") != tc.wantType || !strings.HasPrefix(h.Get("Content-Disposition"), "inline") {
					t.Fatalf("%s: object store answered %d %v", tc.name, got.StatusCode, h)
				}
			} else {
				if resp.StatusCode != 200 || h.Get("Content-Type") != tc.wantType || h.Get("Content-Security-Policy") != "sandbox" ||
					h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Content-Disposition"), "inline") {
					t.Fatalf("%s: %d %v", tc.name, resp.StatusCode, h)
				}
			}
			if string(b) != tc.body {
				t.Fatalf("%s: body %q", tc.name, b)
			}
			if code := bob.status("GET", "/api/documents/"+id+"/preview", nil); code != 404 {
				t.Fatalf("another user's preview: %d", code)
			}
		}
		tk := startUpload(t, alice, "p.pdf", "application/pdf", []byte("%PDF"))
		if code := alice.status("GET", "/api/documents/"+tk.DocumentID+"/preview", nil); code != 409 {
			t.Fatalf("pending preview: %d", code)
		}
		if code := e.anonymous().status("GET", "/api/documents/"+tk.DocumentID+"/preview", nil); code != 401 {
			t.Fatalf("anonymous preview: %d", code)
		}
	})
}

func (c *client) usedBytes() int64 {
	c.e.t.Helper()
	q, err := c.e.store.QuotaOf(context.Background(), c.user.ID)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return q.UsedBytes + q.PendingBytes
}

// TestDuplicateUploads refuses the same bytes twice from one user with 409 and the existing
// id, charges nothing for the refused copy, and never compares across users. On S3 the
// worker finds the copy once it has hashed it and removes it, giving its bytes back.
func TestDuplicateUploads(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		s3 := strings.Contains(t.Name(), "minio")
		if s3 {
			e = withPool(t, e)
		}
		alice, bob := e.member("alice"), e.member("bob")
		body := []byte("the same invoice, scanned twice")
		first := uploadBytes(t, alice, "a.txt", "text/plain", body)
		if s3 {
			waitDocument(t, alice, first, classified)
		}
		used := alice.usedBytes()

		// Declared checksum: refused before any byte is sent, nothing reserved.
		b := alice.call("POST", "/api/documents/upload-url", map[string]any{"filename": "b.txt", "size_bytes": len(body), "sha256": sha(body)}, 409)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		if out["existing_id"] != first || out["detail"] == nil {
			t.Fatalf("declared duplicate: %s", b)
		}
		alice.call("POST", "/api/documents/upload-url", map[string]any{"filename": "b.txt", "size_bytes": 1, "sha256": "ABC"}, 400)
		if got := alice.usedBytes(); got != used {
			t.Fatalf("used %d after refusals, want %d", got, used)
		}

		// Undeclared: the three steps, refused at confirm (local) or by the worker (S3).
		tk := startUpload(t, alice, "copy.txt", "text/plain", body)
		if !s3 {
			b = alice.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 409)
			_ = json.Unmarshal(b, &out)
			if out["existing_id"] != first {
				t.Fatalf("confirm duplicate: %s", b)
			}
			alice.call("GET", "/api/documents/"+tk.DocumentID, nil, 404)
		} else {
			alice.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)
			waitDocument(t, alice, tk.DocumentID, func(status int, _ map[string]any) bool { return status == 404 })
		}
		if got := alice.usedBytes(); got != used {
			t.Fatalf("used %d after a duplicate, want %d", got, used)
		}
		alice.call("GET", "/api/documents/"+first, nil, 200)

		// Another user's identical file is theirs to keep; nothing tells them alice has it.
		bobs := uploadBytes(t, bob, "a.txt", "text/plain", body)
		if s3 {
			waitDocument(t, bob, bobs, classified)
		}
		bob.call("GET", "/api/documents/"+bobs, nil, 200)
		// Different bytes are not duplicates.
		uploadBytes(t, alice, "other.txt", "text/plain", []byte("another file"))
	})
}

// TestLargeLocalUploadHashedByWorker: a signed local upload declared larger than
// blob.InlineHashLimit streams without being hashed; the worker hashes it, as it does an
// upload to S3, records the checksum and removes a second copy of the same bytes, giving its
// bytes back. One at the limit is hashed while it streams and its copy is refused at confirm.
func TestLargeLocalUploadHashedByWorker(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e = withPool(t, e)
		e.createUser("alice", store.RoleUser, 1<<30)
		alice := e.login("alice", testPassword)
		at := bytes.Repeat([]byte("ledger "), blob.InlineHashLimit/7+1)[:blob.InlineHashLimit]
		first := uploadBytes(t, alice, "at-limit.txt", "text/plain", at)
		if got, _ := e.store.DocumentChecksum(ctx, first); got != sha(at) {
			t.Fatalf("checksum at the limit after confirm %q, want %q", got, sha(at))
		}
		tk := startUpload(t, alice, "at-limit-copy.txt", "text/plain", at)
		alice.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 409)

		over := append(at, '!')
		big := uploadBytes(t, alice, "over.txt", "text/plain", over)
		waitDocument(t, alice, big, classified)
		if got, _ := e.store.DocumentChecksum(ctx, big); got != sha(over) {
			t.Fatalf("checksum over the limit after the worker %q, want %q", got, sha(over))
		}
		used := alice.usedBytes()
		copyID := uploadBytes(t, alice, "over-copy.txt", "text/plain", over) // confirmed: not hashed yet
		waitDocument(t, alice, copyID, func(status int, _ map[string]any) bool { return status == 404 })
		if got := alice.usedBytes(); got != used {
			t.Fatalf("used %d after the worker removed the copy, want %d", got, used)
		}
		alice.call("GET", "/api/documents/"+big, nil, 200)
	}, func(o *server.Options) { o.MaxUploadBytes = 2 * blob.InlineHashLimit })
}

// TestDuplicateOneShot refuses a one-shot upload of bytes the user already has.
func TestDuplicateOneShot(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		body := []byte("one-shot bytes")
		first := uploadBytes(t, alice, "a.txt", "text/plain", body)
		used := alice.usedBytes()
		var buf bytes.Buffer
		ct := newMultipart(&buf, "again.txt", body)
		resp := alice.request("POST", "/api/documents", &buf, "Content-Type", ct)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		if resp.StatusCode != 409 || out["existing_id"] != first {
			t.Fatalf("one-shot duplicate: %d %s", resp.StatusCode, b)
		}
		if got := alice.usedBytes(); got != used {
			t.Fatalf("used %d, want %d", got, used)
		}
		docs, _, err := e.store.ListDocuments(context.Background(), alice.user.ID, store.DocumentFilter{Limit: 10})
		if err != nil || len(docs) != 1 {
			t.Fatalf("documents after refused one-shot: %d %v", len(docs), err)
		}
	})
}

// TestConcurrentDuplicateConfirms: identical uploads confirmed at the same moment end in
// exactly one document (200), the others 409 with its id, and one copy charged.
func TestConcurrentDuplicateConfirms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		body := []byte("the same scan, sent from two devices at once")
		const n = 6
		tickets := make([]uploadTicket, n)
		for i := range tickets {
			tickets[i] = startUpload(t, alice, "scan.pdf", "application/pdf", body)
		}
		codes := testenv.Together(n, func(i int) int {
			return alice.status("POST", "/api/documents/"+tickets[i].DocumentID+"/confirm", nil)
		})
		ok := 0
		for _, code := range codes {
			switch code {
			case 200:
				ok++
			case 409:
			default:
				t.Fatalf("statuses %v", codes)
			}
		}
		q, _ := e.store.QuotaOf(context.Background(), alice.user.ID)
		docs, _, _ := e.store.ListDocuments(context.Background(), alice.user.ID, store.DocumentFilter{Limit: 10})
		if ok != 1 || q.UsedBytes != int64(len(body)) || q.PendingBytes != 0 || len(docs) != 1 {
			t.Fatalf("statuses %v, quota %+v, %d documents; want exactly one", codes, q, len(docs))
		}
	})
}
