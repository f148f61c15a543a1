package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// fakeSizeBlobs is a local store whose Stat reports a chosen size and counts its calls, so
// quota tests can confirm large documents without writing them.
type fakeSizeBlobs struct {
	*blob.Local
	mu    sync.Mutex
	sizes map[string]int64
	stats atomic.Int64
}

func (f *fakeSizeBlobs) Stat(ctx context.Context, key string) (blob.Info, error) {
	f.stats.Add(1)
	f.mu.Lock()
	size, ok := f.sizes[key]
	f.mu.Unlock()
	if !ok {
		return f.Local.Stat(ctx, key)
	}
	return blob.Info{Key: key, Size: size}, nil
}

// Move reports the chosen size for a pending document's key, as if its upload were moved there.
func (f *fakeSizeBlobs) Move(ctx context.Context, src, dst string) (blob.Info, error) {
	f.mu.Lock()
	_, ok := f.sizes[dst]
	f.mu.Unlock()
	if !ok {
		return f.Local.Move(ctx, src, dst)
	}
	return f.Stat(ctx, dst)
}

func withFakeSizes(f **fakeSizeBlobs) envOption {
	return func(o *server.Options) {
		*f = &fakeSizeBlobs{Local: o.Blobs.(*blob.Local), sizes: map[string]int64{}}
		o.Blobs = *f
	}
}

// pendingOfSize makes a pending document whose object the store will report as size bytes.
func pendingOfSize(t *testing.T, c *client, f *fakeSizeBlobs, size int64) string {
	t.Helper()
	var tk uploadTicket
	c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "big.bin", "content_type": "application/octet-stream", "size_bytes": 0}, 201, &tk)
	f.mu.Lock()
	f.sizes[store.ObjectKeyFor(c.user.ID, tk.DocumentID)] = size
	f.mu.Unlock()
	return tk.DocumentID
}

func quotaOf(t *testing.T, c *client) (used, limit int64) {
	t.Helper()
	var q struct {
		Used  int64 `json:"used_bytes"`
		Limit int64 `json:"limit_bytes"`
	}
	c.call("GET", "/api/auth/me/quota", nil, 200, &q)
	return q.Used, q.Limit
}

func TestGetQuota(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		b := c.call("GET", "/api/auth/me/quota", nil, 200)
		if strings.TrimSpace(string(b)) != `{"limit_bytes":104857600,"trash_bytes":0,"used_bytes":0}` {
			t.Fatalf("quota of a new user: %s", b)
		}
	})
}

func TestUploadURLEndpoint(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		var tk uploadTicket
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": 10}, 201, &tk)
		if tk.DocumentID == "" || tk.UploadURL == "" || tk.ExpiresAt == "" ||
			!(tk.Method == "PUT" && tk.Headers["Content-Type"] == "application/pdf" || tk.Method == "POST" && tk.Fields["Content-Type"] == "application/pdf") {
			t.Fatalf("ticket %+v", tk)
		}
		if _, err := url.ParseRequestURI(tk.UploadURL); err != nil || !strings.HasPrefix(tk.UploadURL, "http") {
			t.Fatalf("upload_url not absolute: %q", tk.UploadURL)
		}
		var d map[string]any
		c.call("GET", "/api/documents/"+tk.DocumentID, nil, 200, &d)
		if d["status"] != "pending" {
			t.Fatalf("status %v", d["status"])
		}
	})
}

func TestConfirmEndpoint(t *testing.T) {
	var f *fakeSizeBlobs
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		id := pendingOfSize(t, c, f, 4321)
		before := f.stats.Load()
		var d map[string]any
		c.call("POST", "/api/documents/"+id+"/confirm", nil, 200, &d)
		if got := f.stats.Load() - before; got != 1 {
			t.Errorf("stat called %d times, want 1", got)
		}
		if d["status"] != "uploaded" || d["size_bytes"] != float64(4321) || d["uploaded_at"] == nil {
			t.Fatalf("confirmed document %v", d)
		}
		// Repeating changes nothing.
		c.call("POST", "/api/documents/"+id+"/confirm", nil, 200, &d)
		if used, _ := quotaOf(t, c); used != 4321 {
			t.Fatalf("used after repeated confirm: %d", used)
		}
		// No object: 422.
		var tk uploadTicket
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "x", "size_bytes": 5}, 201, &tk)
		if b := c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 422); detail(t, b) != "upload not found" {
			t.Fatalf("confirm without object: %s", b)
		}
	}, withFakeSizes(&f))
}

func TestQuotaIncrementAtomic(t *testing.T) {
	var f *fakeSizeBlobs
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		id := pendingOfSize(t, c, f, 50_000_000)
		c.call("POST", "/api/documents/"+id+"/confirm", nil, 200)
		if used, _ := quotaOf(t, c); used != 50_000_000 {
			t.Fatalf("used = %d, want 50000000", used)
		}
	}, withFakeSizes(&f))
}

func TestConcurrentQuotaRace(t *testing.T) {
	var f *fakeSizeBlobs
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice") // 100 MiB = 104857600
		a := pendingOfSize(t, c, f, 55_000_000)
		b := pendingOfSize(t, c, f, 55_000_000)
		ids := []string{a, b}
		statuses := testenv.Together(2, func(i int) int { return c.status("POST", "/api/documents/"+ids[i]+"/confirm", nil) })
		sort.Ints(statuses)
		if statuses[0] != 200 || statuses[1] != 413 {
			t.Fatalf("statuses %v, want [200 413]", statuses)
		}
		if used, _ := quotaOf(t, c); used != 55_000_000 {
			t.Fatalf("used = %d", used)
		}
	}, withFakeSizes(&f))
}

func TestQuotaExceededResponse(t *testing.T) {
	var f *fakeSizeBlobs
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		first := pendingOfSize(t, c, f, 60_000_000)
		c.call("POST", "/api/documents/"+first+"/confirm", nil, 200)
		second := pendingOfSize(t, c, f, 50_000_000)
		var body struct {
			Detail struct {
				Used     int64 `json:"used_bytes"`
				Limit    int64 `json:"limit_bytes"`
				Rejected int64 `json:"rejected_bytes"`
			} `json:"detail"`
		}
		c.call("POST", "/api/documents/"+second+"/confirm", nil, 413, &body)
		if body.Detail.Used != 60_000_000 || body.Detail.Limit != 104857600 || body.Detail.Rejected != 50_000_000 {
			t.Fatalf("413 body %+v", body.Detail)
		}
		c.call("GET", "/api/documents/"+second, nil, 404) // the pending row is gone
		if used, _ := quotaOf(t, c); used != 60_000_000 {
			t.Fatalf("quota changed by a refused upload: %d", used)
		}
		// Step 1 already refuses what cannot fit.
		b := c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "x", "size_bytes": 50_000_000}, 413)
		if d, ok := detail(t, b).(map[string]any); !ok || d["rejected_bytes"] != float64(50_000_000) {
			t.Fatalf("upload-url 413: %s", b)
		}
	}, withFakeSizes(&f))
}

func TestDeleteDecrementsQuota(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		id := uploadBytes(t, c, "a.txt", "text/plain", bytes.Repeat([]byte("x"), 1000))
		keep := uploadBytes(t, c, "b.txt", "text/plain", bytes.Repeat([]byte("y"), 300))
		if used, _ := quotaOf(t, c); used != 1300 {
			t.Fatalf("used %d", used)
		}
		c.call("DELETE", "/api/documents/"+id, nil, 204)
		c.call("DELETE", "/api/documents/"+id, nil, 404)
		if used, _ := quotaOf(t, c); used != 300 {
			t.Fatalf("used after delete %d", used)
		}
		if _, err := e.blobs.Stat(context.Background(), store.ObjectKeyFor(c.user.ID, id)); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("object not deleted: %v", err)
		}
		c.call("GET", "/api/documents/"+keep, nil, 200)
	})
}

func TestCrossUserAccess404(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		bob := e.member("bob")
		id := uploadBytes(t, alice, "a.txt", "text/plain", []byte("private"))
		missing := bob.call("GET", "/api/documents/00000000-0000-0000-0000-000000000000", nil, 404)
		for _, r := range [][2]string{{"GET", ""}, {"GET", "/download"}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/confirm"}, {"POST", "/classify"}} {
			b := bob.call(r[0], "/api/documents/"+id+r[1], map[string]any{}, 404)
			if string(b) != string(missing) {
				t.Errorf("%s %s: body %s differs from a missing document's %s", r[0], r[1], b, missing)
			}
		}
		var list struct{ Items []any }
		bob.call("GET", "/api/documents", nil, 200, &list)
		if len(list.Items) != 0 {
			t.Fatalf("bob sees %d documents", len(list.Items))
		}
		alice.call("GET", "/api/documents/"+id, nil, 200)
	})
}

func TestAdminCannotAccessDocuments(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		for _, r := range [][2]string{{"GET", "/api/documents"}, {"POST", "/api/documents/upload-url"}, {"GET", "/api/documents/x"}, {"GET", "/api/documents/x/download"}, {"DELETE", "/api/documents/x"}} {
			admin.call(r[0], r[1], map[string]any{}, 403)
		}
	})
}

func TestDocumentsRequireAuth(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		anon := e.anonymous()
		for _, r := range [][2]string{{"GET", "/api/documents"}, {"POST", "/api/documents/upload-url"}, {"GET", "/api/documents/x"}, {"POST", "/api/documents"}} {
			anon.call(r[0], r[1], map[string]any{}, 401)
		}
	})
}

func TestUploadDownloadBytes(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		body := make([]byte, 3<<20+17)
		_, _ = rand.Read(body)
		name := `Bericht "Q3" – résumé.pdf`
		id := uploadBytes(t, c, name, "application/pdf", body)
		resp := c.request("GET", "/api/documents/"+id+"/download", nil)
		if resp.StatusCode == http.StatusFound {
			loc := resp.Header.Get("Location")
			resp.Body.Close()
			if u, _ := url.Parse(loc); u.Query().Get("X-Amz-Expires") == "" || u.Query().Get("X-Amz-Expires") > "300" && len(u.Query().Get("X-Amz-Expires")) >= 3 {
				t.Errorf("presigned URL lifetime %q", u.Query().Get("X-Amz-Expires"))
			}
			var err error
			resp, err = http.Get(loc)
			if err != nil {
				t.Fatal(err)
			}
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || sha256.Sum256(got) != sha256.Sum256(body) {
			t.Fatalf("download: %d, %d bytes, hash differs", resp.StatusCode, len(got))
		}
		cd := resp.Header.Get("Content-Disposition")
		if !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "filename*=utf-8''Bericht%20%22Q3%22%20%E2%80%93%20r%C3%A9sum%C3%A9.pdf") {
			t.Errorf("Content-Disposition %q", cd)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("Content-Type %q", ct)
		}
	})
}

func TestDownloadRangeAndETag(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		id := uploadBytes(t, c, "page.html", "text/html", []byte("<script>alert(1)</script> 0123456789"))
		resp := c.request("GET", "/api/documents/"+id+"/download", nil, "Range", "bytes=26-29")
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 206 || string(b) != "0123" {
			t.Fatalf("range: %d %q", resp.StatusCode, b)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("an HTML document could render inline: %v", resp.Header)
		}
		etag := resp.Header.Get("ETag")
		resp = c.request("GET", "/api/documents/"+id+"/download", nil, "If-None-Match", etag)
		resp.Body.Close()
		if etag == "" || resp.StatusCode != 304 {
			t.Fatalf("If-None-Match %q: %d", etag, resp.StatusCode)
		}
	})
}

func TestOneShotUpload(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		send := func(name string, body []byte) (int, []byte) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			w, _ := mw.CreateFormFile("file", name)
			w.Write(body)
			mw.Close()
			resp := c.request("POST", "/api/documents", &buf, "Content-Type", mw.FormDataContentType())
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b
		}
		code, b := send("notes.txt", []byte("meeting notes"))
		if code != 201 || !strings.Contains(string(b), `"status":"uploaded"`) || !strings.Contains(string(b), `"size_bytes":13`) {
			t.Fatalf("one-shot: %d %s", code, b)
		}
		if code, _ := send("../evil.txt", []byte("x")); code != 400 {
			t.Fatalf("path in filename: %d", code)
		}
		// Past the remaining quota: refused while streaming, nothing kept.
		if _, err := e.store.UpdateUser(context.Background(), c.user.ID, store.UserPatch{LimitBytes: ptr(int64(1000))}); err != nil {
			t.Fatal(err)
		}
		code, b = send("big.bin", make([]byte, 5000))
		if code != 413 {
			t.Fatalf("over quota: %d %s", code, b)
		}
		var list struct{ Items []any }
		c.call("GET", "/api/documents", nil, 200, &list)
		if used, _ := quotaOf(t, c); len(list.Items) != 1 || used != 13 {
			t.Fatalf("after refusal: %d documents, used %d", len(list.Items), used)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestListPaginationAndFilters(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		var ids []string
		for i := 0; i < 7; i++ {
			ids = append(ids, uploadBytes(t, c, fmt.Sprintf("doc-%d.txt", i), "text/plain", []byte("x")))
			e.clock.Add(time.Second)
		}
		startUpload(t, c, "unfinished.txt", "text/plain", []byte("y"))
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			var page struct {
				Items []struct {
					ID       string `json:"id"`
					Filename string `json:"filename"`
				} `json:"items"`
				NextCursor *string `json:"next_cursor"`
			}
			c.call("GET", "/api/documents?status=uploaded&limit=3"+cursor, nil, 200, &page)
			for _, d := range page.Items {
				seen = append(seen, d.ID)
			}
			if pages == 0 {
				// A document added meanwhile must not shift the next pages.
				uploadBytes(t, c, "late.txt", "text/plain", []byte("z"))
			}
			if page.NextCursor == nil {
				break
			}
			cursor = "&cursor=" + url.QueryEscape(*page.NextCursor)
		}
		if len(seen) != 7 {
			t.Fatalf("saw %d documents over the pages, want 7", len(seen))
		}
		for i, id := range seen {
			if id != ids[6-i] {
				t.Fatalf("order: position %d is %s, want %s (newest first)", i, id, ids[6-i])
			}
		}
		var pending struct{ Items []map[string]any }
		c.call("GET", "/api/documents?status=pending", nil, 200, &pending)
		if len(pending.Items) != 1 || pending.Items[0]["filename"] != "unfinished.txt" {
			t.Fatalf("status filter: %v", pending.Items)
		}
		var found struct{ Items []map[string]any }
		c.call("GET", "/api/documents?q=doc-3", nil, 200, &found)
		if len(found.Items) == 0 || found.Items[0]["filename"] != "doc-3.txt" {
			t.Fatalf("search by filename: %v", found.Items)
		}
		for _, bad := range []string{"limit=0", "limit=201", "limit=x", "cursor=!!!", "cursor=bm90YWN1cnNvcg", "status=weird"} {
			c.call("GET", "/api/documents?"+bad, nil, 400)
		}
	})
}

func TestPatchDocument(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		bob := e.member("bob")
		admin := e.admin("root")
		id := uploadBytes(t, alice, "a.txt", "text/plain", []byte("x"))
		var sys, own, foreign map[string]any
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Finance"}, 201, &sys)
		alice.call("POST", "/api/topics", map[string]string{"name": "Hobbies"}, 201, &own)
		bob.call("POST", "/api/topics", map[string]string{"name": "Bob's"}, 201, &foreign)

		var d map[string]any
		alice.call("PATCH", "/api/documents/"+id, map[string]any{"filename": "renamed.txt", "topic_ids": []any{sys["id"], own["id"]}}, 200, &d)
		if d["filename"] != "renamed.txt" || len(d["topics"].([]any)) != 2 {
			t.Fatalf("patched %v", d)
		}
		alice.call("PATCH", "/api/documents/"+id, map[string]any{"topic_ids": []any{foreign["id"]}}, 422)
		alice.call("PATCH", "/api/documents/"+id, map[string]any{"topic_ids": []any{"no-such-topic"}}, 422)
		for _, bad := range []string{"", "a/b", `a\b`, "bad\nname", strings.Repeat("x", 256)} {
			alice.call("PATCH", "/api/documents/"+id, map[string]any{"filename": bad}, 400)
		}
		alice.call("GET", "/api/documents/"+id, nil, 200, &d)
		if d["filename"] != "renamed.txt" || len(d["topics"].([]any)) != 2 {
			t.Fatalf("a refused patch changed the document: %v", d)
		}
		var byTopic struct{ Items []any }
		alice.call("GET", "/api/documents?topic="+own["id"].(string), nil, 200, &byTopic)
		if len(byTopic.Items) != 1 {
			t.Fatalf("topic filter: %d", len(byTopic.Items))
		}
	})
}

func TestUploadBadInput(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		other := e.member("bob")
		count := func() int {
			var n int
			e.store.DB().QueryRow(`SELECT COUNT(*) FROM documents`).Scan(&n)
			return n
		}
		before := count()
		cases := []struct {
			body any
			want int
		}{
			{map[string]any{"filename": "../../etc/passwd", "size_bytes": 1}, 400},
			{map[string]any{"filename": "/abs", "size_bytes": 1}, 400},
			{map[string]any{"filename": "a\x00b", "size_bytes": 1}, 400},
			{map[string]any{"filename": "bell\x07", "size_bytes": 1}, 400},
			{map[string]any{"filename": "", "size_bytes": 1}, 400},
			{map[string]any{"filename": strings.Repeat("é", 128), "size_bytes": 1}, 400},
			{map[string]any{"filename": "a.txt", "size_bytes": -1}, 400},
			{map[string]any{"filename": "a.txt"}, 400},
			{map[string]any{"filename": "a.txt", "size_bytes": int64(1) << 60}, 413},
			{map[string]any{"filename": "a.txt", "size_bytes": 1, "content_type": "not a type"}, 400},
			{map[string]any{"filename": "a.txt", "size_bytes": 1, "owner": "bob"}, 400},
			{`{"filename": "a.txt", "size_bytes": 1, "padding": "` + strings.Repeat("x", 2<<20) + `"}`, 413},
		}
		for _, tc := range cases {
			c.call("POST", "/api/documents/upload-url", tc.body, tc.want)
		}
		if count() != before {
			t.Fatalf("bad input created rows")
		}
		// The local PUT refuses a body past the declared size, and tampered or expired tokens.
		var tk uploadTicket
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.txt", "size_bytes": 4}, 201, &tk)
		if code := putBytes(t, tk, []byte("12345")); code != 413 {
			t.Fatalf("PUT past declared size: %d", code)
		}
		bad := tk
		bad.UploadURL = tk.UploadURL[:len(tk.UploadURL)-2] + "xx"
		if code := putBytes(t, bad, []byte("1234")); code != 403 {
			t.Fatalf("tampered token: %d", code)
		}
		other.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 404)
		e.clock.Add(time.Hour)
		local := e.blobs.(*blob.Local)
		local.SetClock(e.clock.Now)
		if code := putBytes(t, tk, []byte("1234")); code != 403 {
			t.Fatalf("expired token: %d", code)
		}
		if used, _ := quotaOf(t, c); used != 0 {
			t.Fatalf("quota moved: %d", used)
		}
	})
}

func TestAllowedContentTypes(t *testing.T) {
	e := newEnv(t, "sqlite", "local", func(o *server.Options) { o.AllowedContentTypes = []string{"application/pdf", "text/*"} })
	c := e.member("alice")
	c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.exe", "content_type": "application/x-msdownload", "size_bytes": 1}, 415)
	c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.txt", "content_type": "text/plain; charset=utf-8", "size_bytes": 1}, 201)
	c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": 1}, 201)
}

// downBlobs is a local store that can be switched off.
type downBlobs struct {
	*blob.Local
	down atomic.Bool
}

var errDown = errors.New("dial tcp 127.0.0.1:9: connect: connection refused")

func (d *downBlobs) Stat(ctx context.Context, key string) (blob.Info, error) {
	if d.down.Load() {
		return blob.Info{}, errDown
	}
	return d.Local.Stat(ctx, key)
}

func (d *downBlobs) Move(ctx context.Context, src, dst string) (blob.Info, error) {
	if d.down.Load() {
		return blob.Info{}, errDown
	}
	return d.Local.Move(ctx, src, dst)
}

func (d *downBlobs) Delete(ctx context.Context, key string) error {
	if d.down.Load() {
		return errDown
	}
	return d.Local.Delete(ctx, key)
}

func (d *downBlobs) Ping(ctx context.Context) error {
	if d.down.Load() {
		return errDown
	}
	return d.Local.Ping(ctx)
}

func TestBlobStoreDown(t *testing.T) {
	var db *downBlobs
	switchable := func(o *server.Options) {
		db = &downBlobs{Local: o.Blobs.(*blob.Local)}
		o.Blobs = db
	}
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		tk := startUpload(t, c, "a.txt", "text/plain", []byte("hello"))
		db.down.Store(true)
		if b := c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 503); detail(t, b) != "blob store unavailable" {
			t.Fatalf("confirm with store down: %s", b)
		}
		if b := c.call("GET", "/readyz", nil, 503); !strings.Contains(string(b), "blob store") {
			t.Fatalf("readyz: %s", b)
		}
		var d map[string]any
		c.call("GET", "/api/documents/"+tk.DocumentID, nil, 200, &d)
		if used, _ := quotaOf(t, c); d["status"] != "pending" || used != 0 {
			t.Fatalf("a failed confirm changed state: %v used %d", d["status"], used)
		}
		db.down.Store(false)
		c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)

		// Delete while the store is down: 204, row gone, quota back, object kept for the drain.
		db.down.Store(true)
		c.call("DELETE", "/api/documents/"+tk.DocumentID, nil, 204)
		c.call("GET", "/api/documents/"+tk.DocumentID, nil, 404)
		if used, _ := quotaOf(t, c); used != 0 {
			t.Fatalf("quota not given back: %d", used)
		}
		key := store.ObjectKeyFor(c.user.ID, tk.DocumentID)
		if _, err := db.Local.Stat(context.Background(), key); err != nil {
			t.Fatalf("object should still exist until the drain: %v", err)
		}
		jobs := server.JobsConfig{PendingTTL: time.Hour}
		if err := e.srv.RunJob(context.Background(), jobs, "drain-deletions"); err != nil {
			t.Fatal(err)
		}
		db.down.Store(false)
		e.clock.Add(time.Hour) // past the backoff
		if err := e.srv.RunJob(context.Background(), jobs, "drain-deletions"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Local.Stat(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("orphan object after the drain: %v", err)
		}
		if n, _ := e.store.PendingDeletions(context.Background()); n != 0 {
			t.Fatalf("outbox rows left: %d", n)
		}
	}, switchable)
}

func TestPendingExpiryAndReconciliation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := e.member("alice")
		tk := startUpload(t, c, "abandoned.txt", "text/plain", []byte("never confirmed"))
		keep := uploadBytes(t, c, "kept.txt", "text/plain", []byte("12345"))
		jobs := server.JobsConfig{PendingTTL: time.Hour}
		e.clock.Add(30 * time.Minute)
		if err := e.srv.RunJob(ctx, jobs, "expire-pending"); err != nil {
			t.Fatal(err)
		}
		c.call("GET", "/api/documents/"+tk.DocumentID, nil, 200) // not yet
		e.clock.Add(31 * time.Minute)
		if err := e.srv.RunJob(ctx, jobs, "expire-pending"); err != nil {
			t.Fatal(err)
		}
		c.call("GET", "/api/documents/"+tk.DocumentID, nil, 404)
		c.call("GET", "/api/documents/"+keep, nil, 200)
		if _, err := e.blobs.Stat(ctx, store.ObjectKeyFor(c.user.ID, tk.DocumentID)); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("expired upload's object left: %v", err)
		}

		if _, err := e.store.DB().Exec(`UPDATE quotas SET used_bytes = 999 WHERE user_id = $1`, c.user.ID); err != nil {
			t.Fatal(err)
		}
		fixed, err := e.store.ReconcileQuotas(ctx)
		if err != nil || len(fixed) != 1 || fixed[0].Was != 999 || fixed[0].Now != 5 {
			t.Fatalf("reconcile: %+v %v", fixed, err)
		}
		if used, _ := quotaOf(t, c); used != 5 {
			t.Fatalf("used after reconcile: %d", used)
		}
	})
}
