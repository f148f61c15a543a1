package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// storedBytes reads an object, or nil when it is missing.
func storedBytes(t *testing.T, e *env, key string) []byte {
	t.Helper()
	r, _, err := e.blobs.Open(context.Background(), key)
	if err != nil {
		return nil
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// objectKeys lists every object in the store.
func objectKeys(t *testing.T, e *env) []string {
	t.Helper()
	var keys []string
	if err := e.blobs.List(context.Background(), "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

// sweep runs the integrity sweep once the upload-URL lifetime has passed.
func sweep(t *testing.T, e *env) {
	t.Helper()
	e.clock.Add(16 * time.Minute)
	if err := e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: time.Hour}, "integrity-sweep"); err != nil {
		t.Fatal(err)
	}
}

func refused(code int) bool { return code >= 400 && code < 500 }

// TestUploadURLSingleUse replays the attack: upload-url for the remaining quota, PUT 0 bytes,
// confirm (charged 0), PUT the full size again. Now the short PUT is refused, a second PUT
// cannot touch the confirmed bytes (the local store refuses it; on MinIO it can only write a
// staging object the sweep removes), and PUTs after DELETE or a 413 discard leave nothing.
func TestUploadURLSingleUse(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		_, local := e.opts.Blobs.(*blob.Local)
		e.createUser("mallory", store.RoleUser, 1<<20)
		c := e.login("mallory", testPassword)
		full := bytes.Repeat([]byte("A"), 1<<20)
		var tk uploadTicket
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.bin", "size_bytes": len(full)}, 201, &tk)
		if code := putBytes(t, tk, nil); !refused(code) {
			t.Fatalf("PUT of 0 bytes against a %d-byte URL: %d", len(full), code)
		}
		if code := putBytes(t, tk, full); code != 200 {
			t.Fatalf("first real PUT: %d", code)
		}
		c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)
		key := store.ObjectKeyFor(c.user.ID, tk.DocumentID)
		code := putBytes(t, tk, bytes.Repeat([]byte("B"), 1<<20))
		if local && code != http.StatusGone {
			t.Fatalf("PUT after confirm on the local store: %d, want 410", code)
		}
		if got := storedBytes(t, e, key); !bytes.Equal(got, full) {
			t.Fatalf("confirmed bytes changed by a PUT after confirm (%d bytes stored)", len(got))
		}
		if used, _ := quotaOf(t, c); used != int64(len(full)) {
			t.Fatalf("used %d", used)
		}
		c.call("DELETE", "/api/documents/"+tk.DocumentID, nil, 204)

		// A PUT after DELETE of a pending upload, and after a 413 discard.
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "b.bin", "size_bytes": 10}, 201, &tk)
		c.call("DELETE", "/api/documents/"+tk.DocumentID, nil, 204)
		if code := putBytes(t, tk, []byte("0123456789")); local && code != http.StatusGone {
			t.Fatalf("PUT after DELETE: %d, want 410", code)
		}
		var big uploadTicket
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "c.bin", "size_bytes": 600 << 10}, 201, &big)
		var other uploadTicket
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "d.bin", "size_bytes": 600 << 10}, 201, &other)
		for _, x := range []uploadTicket{big, other} {
			if code := putBytes(t, x, make([]byte, 600<<10)); code != 200 {
				t.Fatalf("PUT: %d", code)
			}
		}
		c.call("POST", "/api/documents/"+big.DocumentID+"/confirm", nil, 200)
		c.call("POST", "/api/documents/"+other.DocumentID+"/confirm", nil, 413)
		if code := putBytes(t, other, make([]byte, 600<<10)); local && code != http.StatusGone {
			t.Fatalf("PUT after a 413 discard: %d, want 410", code)
		}
		c.call("DELETE", "/api/documents/"+big.DocumentID, nil, 204)
		sweep(t, e)
		if keys := objectKeys(t, e); len(keys) != 0 {
			t.Fatalf("objects left after every document is gone: %v", keys)
		}
		if used, _ := quotaOf(t, c); used != 0 {
			t.Fatalf("used %d", used)
		}
	})
}

// TestLocalUploadURLUsedOnce: a second PUT while the document is still pending is a 409, and
// a failed (short) PUT gives the URL back.
func TestLocalUploadURLUsedOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		var tk uploadTicket
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.txt", "size_bytes": 5}, 201, &tk)
		if code := putBytes(t, tk, []byte("abc")); code != http.StatusBadRequest {
			t.Fatalf("short body: %d", code)
		}
		if code := putBytes(t, tk, []byte("abcdefgh")); code != http.StatusRequestEntityTooLarge {
			t.Fatalf("long body: %d", code)
		}
		if code := putBytes(t, tk, []byte("hello")); code != 200 {
			t.Fatalf("PUT after refused ones: %d", code)
		}
		if code := putBytes(t, tk, []byte("HELLO")); code != http.StatusConflict {
			t.Fatalf("second PUT: %d, want 409", code)
		}
		c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)
		if got := storedBytes(t, e, store.ObjectKeyFor(c.user.ID, tk.DocumentID)); string(got) != "hello" {
			t.Fatalf("stored %q", got)
		}
	})
}

// TestPendingUploadsBounded: at upload-url, used + pending + size <= limit + allowance, with
// one conditional UPDATE: 8 concurrent 30 MiB upload-urls on a 100 MiB quota (allowance: the
// limit) get exactly 6 granted; confirm, delete and expiry give the reservation back.
func TestPendingUploadsBounded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice") // 100 MiB
		const size = 30 << 20
		codes := testenv.Together(8, func(int) int {
			return c.status("POST", "/api/documents/upload-url", map[string]any{"filename": "p.bin", "size_bytes": size})
		})
		sort.Ints(codes)
		if want := []int{201, 201, 201, 201, 201, 201, 413, 413}; !equalInts(codes, want) {
			t.Fatalf("statuses %v, want %v", codes, want)
		}
		q, err := e.store.QuotaOf(context.Background(), c.user.ID)
		if err != nil || q.PendingBytes != 6*size {
			t.Fatalf("pending %d, want %d (%v)", q.PendingBytes, 6*size, err)
		}
		if err := e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: time.Hour}, "expire-pending"); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(2 * time.Hour)
		if err := e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: time.Hour}, "expire-pending"); err != nil {
			t.Fatal(err)
		}
		if q, _ := e.store.QuotaOf(context.Background(), c.user.ID); q.PendingBytes != 0 {
			t.Fatalf("pending after expiry %d", q.PendingBytes)
		}
		// Confirm and delete give it back too; one-shot uploads reserve while they stream.
		id := uploadBytes(t, c, "a.txt", "text/plain", []byte("12345"))
		var tk uploadTicket
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "b", "size_bytes": 7}, 201, &tk)
		c.call("DELETE", "/api/documents/"+tk.DocumentID, nil, 204)
		oneShot(t, c, "c.txt", []byte("abc"), 201)
		if q, _ := e.store.QuotaOf(context.Background(), c.user.ID); q.PendingBytes != 0 || q.UsedBytes != 8 {
			t.Fatalf("after confirm, delete, one-shot: %+v", q)
		}
		c.call("DELETE", "/api/documents/"+id, nil, 204)
	})
}

// TestPendingAllowanceConfigured: with quota.pending_allowance = 1 byte, pending uploads stop
// at the limit (plus one byte).
func TestPendingAllowanceConfigured(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a", "size_bytes": 60 << 20}, 201)
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "b", "size_bytes": 41 << 20}, 201)
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "c", "size_bytes": 1 << 20}, 413)
	}, func(o *server.Options) { o.PendingAllowance = 1 << 20 })
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// oneShot posts a multipart upload and checks the status.
func oneShot(t *testing.T, c *client, name string, body []byte, want int) []byte {
	t.Helper()
	var buf bytes.Buffer
	ct := newMultipart(&buf, name, body)
	resp := c.request("POST", "/api/documents", &buf, "Content-Type", ct)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("one-shot %s: %d, want %d: %s", name, resp.StatusCode, want, b)
	}
	return b
}

// newMultipart writes a form with one file field and returns its content type.
func newMultipart(buf *bytes.Buffer, name string, body []byte) string {
	mw := multipart.NewWriter(buf)
	w, _ := mw.CreateFormFile("file", name)
	w.Write(body)
	mw.Close()
	return mw.FormDataContentType()
}

func randomSuffix() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestConfirmRecordsChecksum: the SHA-256 of the stored bytes is on the row after confirm
// (three-step on the local store, one-shot everywhere); on MinIO the sweep (like the worker)
// records it from its read, and a later change of the bytes is reported.
func TestConfirmRecordsChecksum(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		_, local := e.opts.Blobs.(*blob.Local)
		c := e.member("alice")
		body := []byte("the confirmed bytes")
		id := uploadBytes(t, c, "a.txt", "text/plain", body)
		got, err := e.store.DocumentChecksum(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if local && got != sha(body) {
			t.Fatalf("checksum after a local upload %q, want %q", got, sha(body))
		}
		if !local {
			if got != "" {
				t.Fatalf("checksum before the worker read: %q", got)
			}
			sweep(t, e)
			if got, _ := e.store.DocumentChecksum(ctx, id); got != sha(body) {
				t.Fatalf("checksum after the sweep %q", got)
			}
		}
		var d struct {
			ID string `json:"id"`
		}
		one := []byte("one-shot bytes")
		if err := json.Unmarshal(oneShot(t, c, "b.txt", one, 201), &d); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.store.DocumentChecksum(ctx, d.ID); got != sha(one) {
			t.Fatalf("one-shot checksum %q, want %q", got, sha(one))
		}
	})
}

// TestDeleteKeepsOutboxWhenFolderMissing: with the blob folder gone (an unmounted disk) a
// deletion is not counted as done; once the folder is back the drain deletes the object.
func TestDeleteKeepsOutboxWhenFolderMissing(t *testing.T) {
	dir := ""
	inDir := func(o *server.Options) {
		dir = filepath.Join(os.TempDir(), "dv-missing-"+randomSuffix())
		l, err := blob.NewLocal(dir, []byte("test-upload-secret-0123456789"))
		if err != nil {
			panic(err)
		}
		o.Blobs = l
	}
	forEachDialect(t, func(t *testing.T, e *env) {
		defer os.RemoveAll(dir)
		ctx := context.Background()
		c := e.member("alice")
		id := uploadBytes(t, c, "a.txt", "text/plain", []byte("keep me safe"))
		key := store.ObjectKeyFor(c.user.ID, id)
		moved := dir + ".unmounted"
		if err := os.Rename(dir, moved); err != nil {
			t.Fatal(err)
		}
		c.call("DELETE", "/api/documents/"+id, nil, 204)
		if err := e.srv.RunJob(ctx, server.JobsConfig{PendingTTL: time.Hour}, "drain-deletions"); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.store.PendingDeletions(ctx); n != 3 {
			t.Fatalf("outbox rows while the folder is missing: %d, want 3 (object, staging and thumbnail)", n)
		}
		c.call("GET", "/readyz", nil, 503)
		if err := os.Rename(moved, dir); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Hour)
		if err := e.srv.RunJob(ctx, server.JobsConfig{PendingTTL: time.Hour}, "drain-deletions"); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.store.PendingDeletions(ctx); n != 0 {
			t.Fatalf("outbox rows after the folder came back: %d", n)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(key))); !os.IsNotExist(err) {
			t.Fatalf("orphan file after the folder came back: %v", err)
		}
	}, inDir)
}

// TestTempFolderRecreated: a blob folder replaced by an empty one takes uploads again without
// a restart; temp files of interrupted uploads are removed at start and by the sweep.
func TestTempFolderRecreated(t *testing.T) {
	dir := ""
	inDir := func(o *server.Options) {
		dir = filepath.Join(os.TempDir(), "dv-recreated-"+randomSuffix())
		if err := os.MkdirAll(filepath.Join(dir, ".tmp"), 0o750); err != nil {
			panic(err)
		}
		stale := filepath.Join(dir, ".tmp", "upload-interrupted")
		_ = os.WriteFile(stale, []byte("half"), 0o600)
		old := time.Now().Add(-time.Hour)
		_ = os.Chtimes(stale, old, old)
		l, err := blob.NewLocal(dir, []byte("test-upload-secret-0123456789"))
		if err != nil {
			panic(err)
		}
		o.Blobs = l
	}
	forEachDialect(t, func(t *testing.T, e *env) {
		defer os.RemoveAll(dir)
		if _, err := os.Stat(filepath.Join(dir, ".tmp", "upload-interrupted")); !os.IsNotExist(err) {
			t.Fatalf("stale temp file kept at start: %v", err)
		}
		c := e.member("alice")
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		uploadBytes(t, c, "a.txt", "text/plain", []byte("after the folder came back"))
		c.call("GET", "/readyz", nil, 200)
		oneShot(t, c, "b.txt", []byte("one-shot too"), 201)

		stale := filepath.Join(dir, ".tmp", "upload-left")
		if err := os.WriteFile(stale, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(stale, old, old); err != nil {
			t.Fatal(err)
		}
		sweep(t, e)
		if _, err := os.Stat(stale); !os.IsNotExist(err) {
			t.Fatalf("stale temp file kept by the sweep: %v", err)
		}
	}, inDir)
}

// signalBlobs is a local store that tells when an upload starts streaming.
type signalBlobs struct {
	*blob.Local
	started chan string
}

func (s *signalBlobs) Put(ctx context.Context, key string, r io.Reader, max int64, ct string) (blob.Info, error) {
	s.started <- key
	return s.Local.Put(ctx, key, r, max, ct)
}

// PutDeclared signals as Put does: the PUT endpoint writes through it.
func (s *signalBlobs) PutDeclared(ctx context.Context, key string, r io.Reader, declared int64, ct string) (blob.Info, error) {
	s.started <- key
	return s.Local.PutDeclared(ctx, key, r, declared, ct)
}

// TestUploadConcurrencyCap: a user streams at most MaxUploadsPerUser uploads through this
// server at once; the next gets 429 with Retry-After, and the refusal does not use its URL up.
func TestUploadConcurrencyCap(t *testing.T) {
	var sb *signalBlobs
	capped := func(o *server.Options) {
		o.MaxUploadsPerUser = 2
		sb = &signalBlobs{Local: o.Blobs.(*blob.Local), started: make(chan string, 8)}
		o.Blobs = sb
	}
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		const size = 1 << 20
		type slow struct {
			w    *io.PipeWriter
			done chan int
		}
		var running []slow
		for i := 0; i < 2; i++ {
			var tk uploadTicket
			c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "slow", "size_bytes": size}, 201, &tk)
			pr, pw := io.Pipe()
			t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) }) // runs before the server closes
			req, _ := http.NewRequest("PUT", tk.UploadURL, pr)
			req.ContentLength = size
			s := slow{w: pw, done: make(chan int, 1)}
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					s.done <- 0
					return
				}
				resp.Body.Close()
				s.done <- resp.StatusCode
			}()
			<-sb.started // streaming: the slot is taken
			running = append(running, s)
		}
		var tk uploadTicket
		c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "third", "size_bytes": 3}, 201, &tk)
		req, _ := http.NewRequest("PUT", tk.UploadURL, bytes.NewReader([]byte("abc")))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("third PUT: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		var buf bytes.Buffer
		ct := newMultipart(&buf, "d.txt", []byte("one-shot"))
		resp = c.request("POST", "/api/documents", &buf, "Content-Type", ct)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("one-shot while two stream: %d", resp.StatusCode)
		}
		for _, s := range running {
			if _, err := s.w.Write(make([]byte, size)); err != nil {
				t.Fatal(err)
			}
			s.w.Close()
			if code := <-s.done; code != 200 {
				t.Fatalf("slow PUT: %d", code)
			}
		}
		if code := putBytes(t, tk, []byte("abc")); code != 200 {
			t.Fatalf("refused PUT retried: %d (the refusal must not use the URL up)", code)
		}
		oneShot(t, c, "e.txt", []byte("now there is room"), 201)
	}, capped)
}
