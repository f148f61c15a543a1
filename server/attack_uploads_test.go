package server_test

// Attacks on the upload path, over real HTTP: replayed and forged upload URLs, lying bodies,
// races between confirms, deletes, expiry, quota changes and the integrity sweep, and blob
// stores that fail half-way. Each test asserts the guarantee the attack tried to break: a
// user's bytes never exceed their quota, the counters match the documents, confirmed bytes
// never change, nothing is left in the blob store that no row refers to, and nobody touches
// another user's uploads.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// hookBlobs wraps a blob store with hooks around Move, Put and Delete, so a test can stop a
// request at an exact point and let another one run meanwhile. It keeps the local store's
// upload endpoint working.
type hookBlobs struct {
	blob.Store
	mu         sync.Mutex
	beforeMove func(src, dst string) // runs before the move
	afterMove  func(src, dst string) error
	afterPut   func(key string)
	beforePut  func(key string)
	failPut    func(key string) error // a non-nil error fails the write before it starts
	beforeDel  func(key string)
	wrapBody   func(io.Reader) io.Reader
}

func (h *hookBlobs) hooks() (func(string, string), func(string, string) error, func(string), func(string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.beforeMove, h.afterMove, h.afterPut, h.beforeDel
}

func (h *hookBlobs) set(f func(h *hookBlobs)) { h.mu.Lock(); f(h); h.mu.Unlock() }

func (h *hookBlobs) Move(ctx context.Context, src, dst string) (blob.Info, error) {
	before, after, _, _ := h.hooks()
	if before != nil {
		before(src, dst)
	}
	info, err := h.Store.Move(ctx, src, dst)
	if err == nil && after != nil {
		if herr := after(src, dst); herr != nil {
			return blob.Info{}, herr
		}
	}
	return info, err
}

// Stat runs the move hooks on the local store: a confirm of a local upload, which its PUT
// wrote in place, looks at the bytes where an object store's upload is moved.
func (h *hookBlobs) Stat(ctx context.Context, key string) (blob.Info, error) {
	if _, local := h.Store.(*blob.Local); !local {
		return h.Store.Stat(ctx, key)
	}
	before, after, _, _ := h.hooks()
	if before != nil {
		before("", key)
	}
	info, err := h.Store.Stat(ctx, key)
	if err == nil && after != nil {
		if herr := after("", key); herr != nil {
			return blob.Info{}, herr
		}
	}
	return info, err
}

func (h *hookBlobs) Put(ctx context.Context, key string, r io.Reader, max int64, ct string) (blob.Info, error) {
	return h.put(key, r, func(r io.Reader) (blob.Info, error) { return h.Store.Put(ctx, key, r, max, ct) })
}

// localHookBlobs is hookBlobs over the local store, with the local store's own upload
// endpoint and temp cleaning: the server tells the stores apart by what they can do.
type localHookBlobs struct{ *hookBlobs }

// PutDeclared is the local store's write of a signed upload, with the same hooks as Put.
func (h localHookBlobs) PutDeclared(ctx context.Context, key string, r io.Reader, declared int64, ct string) (blob.Info, error) {
	return h.put(key, r, func(r io.Reader) (blob.Info, error) {
		return h.Store.(*blob.Local).PutDeclared(ctx, key, r, declared, ct)
	})
}

// put runs a write of key between the put hooks, the body wrapped if so set.
func (h *hookBlobs) put(key string, r io.Reader, write func(io.Reader) (blob.Info, error)) (blob.Info, error) {
	h.mu.Lock()
	before, fail := h.beforePut, h.failPut
	h.mu.Unlock()
	if before != nil {
		before(key)
	}
	if fail != nil {
		if err := fail(key); err != nil {
			return blob.Info{}, err
		}
	}
	h.mu.Lock()
	if h.wrapBody != nil {
		r = h.wrapBody(r)
	}
	h.mu.Unlock()
	info, err := write(r)
	if _, _, after, _ := h.hooks(); after != nil {
		after(key)
	}
	return info, err
}

func (h *hookBlobs) Delete(ctx context.Context, key string) error {
	if _, _, _, before := h.hooks(); before != nil {
		before(key)
	}
	return h.Store.Delete(ctx, key)
}

// VerifyToken keeps PUT /api/blobs/{token} working on the local store.
func (h localHookBlobs) VerifyToken(token string) (string, int64, error) {
	return h.Store.(*blob.Local).VerifyToken(token)
}

// CleanTemp keeps the sweep's temp cleaning on the local store.
func (h localHookBlobs) CleanTemp(olderThan time.Duration) (int, error) {
	return h.Store.(*blob.Local).CleanTemp(olderThan)
}

func withHooks(h **hookBlobs) envOption {
	return func(o *server.Options) {
		*h = &hookBlobs{Store: o.Blobs}
		o.Blobs = *h
		if _, local := (*h).Store.(*blob.Local); local {
			o.Blobs = localHookBlobs{*h}
		}
	}
}

// forEachHookedCombination runs fn on every database × blob store with hooks installed.
func forEachHookedCombination(t *testing.T, fn func(t *testing.T, e *env, h *hookBlobs)) {
	var h *hookBlobs
	forEachCombination(t, func(t *testing.T, e *env) { fn(t, e, h) }, withHooks(&h))
}

// sendPut sends body to an upload URL from any goroutine; it returns the status (0 with an
// error when the request could not be made).
func sendPut(tk uploadTicket, body []byte) (int, error) {
	code, _, err := testenv.Send(tk.Method, tk.UploadURL, tk.Headers, tk.Fields, body)
	return code, err
}

// statusOf sends a request from any goroutine and returns its status.
func statusOf(c *client, method, path string, body any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := jsonBytes(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.e.ts.URL+path, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func jsonBytes(v any) ([]byte, error) {
	if s, ok := v.(string); ok {
		return []byte(s), nil
	}
	var buf bytes.Buffer
	err := jsonEncode(&buf, v)
	return buf.Bytes(), err
}

// parallel runs n calls of fn at once (released together) and returns their results.
func parallel(n int, fn func(i int) (int, error)) ([]int, error) {
	type result struct {
		code int
		err  error
	}
	results := testenv.Together(n, func(i int) result {
		code, err := fn(i)
		return result{code, err}
	})
	codes := make([]int, n)
	errs := make([]error, n)
	for i, r := range results {
		codes[i], errs[i] = r.code, r.err
	}
	return codes, errors.Join(errs...)
}

// assertOnlyDocument checks that id is c's one document: its bytes are body, the quota
// holds exactly them, the books balance and no stray object is left.
func assertOnlyDocument(t *testing.T, e *env, c *client, id string, body []byte) {
	t.Helper()
	if used, _ := quotaOf(t, c); used != int64(len(body)) {
		t.Fatalf("used %d, want %d", used, len(body))
	}
	if !bytes.Equal(storedBytes(t, e, store.ObjectKeyFor(c.user.ID, id)), body) {
		t.Fatal("stored bytes differ")
	}
	assertBooks(t, e)
	assertNoStrayObjects(t, e)
}

func count(codes []int, code int) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

// assertBooks checks the quota counters against the documents: used_bytes is the sum of the
// confirmed sizes, pending_bytes the sum of the pending declared sizes, and used <= limit.
func assertBooks(t *testing.T, e *env) {
	t.Helper()
	drifts, err := e.store.QuotaDrifts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(drifts) > 0 {
		t.Fatalf("quota counters differ from the documents: %+v", drifts)
	}
	rows, err := e.store.DB().QueryContext(context.Background(), `SELECT user_id, used_bytes, limit_bytes, pending_bytes FROM quotas`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var used, limit, pending int64
		if err := rows.Scan(&id, &used, &limit, &pending); err != nil {
			t.Fatal(err)
		}
		if used > limit || used < 0 || pending < 0 {
			t.Fatalf("user %s: used %d, limit %d, pending %d", id, used, limit, pending)
		}
	}
}

// assertNoStrayObjects checks that every object in the store belongs to a document row:
// a confirmed document's object or a pending document's staging object (or its moved object).
func assertNoStrayObjects(t *testing.T, e *env) {
	t.Helper()
	var keys []string
	for _, k := range objectKeys(t, e) {
		keys = append(keys, k)
	}
	known, err := e.store.KnownObjects(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	var stray []string
	for _, k := range keys {
		if !known[k] {
			stray = append(stray, k)
		}
	}
	if len(stray) > 0 {
		t.Fatalf("objects no row refers to (orphans): %v", stray)
	}
}

// ticket asks for an upload URL of size bytes.
func ticket(t *testing.T, c *client, size int) uploadTicket {
	t.Helper()
	var tk uploadTicket
	c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "f.bin", "content_type": "application/octet-stream", "size_bytes": size}, 201, &tk)
	return tk
}

func filled(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// distinct is filled(b, n) stamped with i, so uploads of one user are not duplicates.
func distinct(b byte, n, i int) []byte {
	out := filled(b, n)
	copy(out, strconv.Itoa(i))
	return out
}

// TestLocalUploadURLReplayedInParallel: 12 parallel PUTs of different bytes to one local
// upload URL store exactly one body (one 200, the rest 409), and the checksum confirmed is
// that body's. After confirm, delete, expiry of the document and expiry of the URL, the URL
// writes nothing.
func TestLocalUploadURLReplayedInParallel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("mallory")
		const size = 64 << 10
		tk := ticket(t, c, size)
		codes, err := parallel(12, func(i int) (int, error) { return sendPut(tk, filled(byte('a'+i), size)) })
		if err != nil {
			t.Fatal(err)
		}
		if count(codes, 200) != 1 || count(codes, http.StatusConflict) != 11 {
			t.Fatalf("parallel PUTs of one URL: %v, want one 200 and eleven 409", codes)
		}
		var doc struct {
			SizeBytes int64 `json:"size_bytes"`
		}
		c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200, &doc)
		key := store.ObjectKeyFor(c.user.ID, tk.DocumentID)
		got := storedBytes(t, e, key)
		if len(got) != size || !bytes.Equal(got, filled(got[0], size)) {
			t.Fatalf("stored bytes are not one of the bodies (%d bytes)", len(got))
		}
		if sum, _ := e.store.DocumentChecksum(context.Background(), tk.DocumentID); sum != sha(got) {
			t.Fatalf("recorded checksum %q is not the stored body's", sum)
		}
		if code, _ := sendPut(tk, filled('z', size)); code != http.StatusGone {
			t.Fatalf("PUT after confirm: %d, want 410", code)
		}
		if !bytes.Equal(storedBytes(t, e, key), got) {
			t.Fatal("confirmed bytes changed")
		}

		// Expiry of the document: the URL is still within its lifetime, the row is gone.
		late := ticket(t, c, 10)
		e.clock.Add(2 * time.Hour)
		if err := e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: time.Hour}, "expire-pending"); err != nil {
			t.Fatal(err)
		}
		if code, _ := sendPut(late, filled('x', 10)); code != http.StatusGone {
			t.Fatalf("PUT after the document expired: %d, want 410", code)
		}
		// Expiry of the URL itself.
		old := ticket(t, c, 10)
		e.blobs.(*blob.Local).SetClock(func() time.Time { return time.Now().Add(16 * time.Minute) })
		if code, _ := sendPut(old, filled('x', 10)); code != http.StatusForbidden {
			t.Fatalf("PUT with an expired URL: %d, want 403", code)
		}
		e.blobs.(*blob.Local).SetClock(time.Now)
		c.call("DELETE", "/api/documents/"+old.DocumentID, nil, 204)
		if used, _ := quotaOf(t, c); used != size {
			t.Fatalf("used %d, want %d", used, size)
		}
		assertBooks(t, e)
		assertNoStrayObjects(t, e)
	})
}

// TestForgedUploadTokens: a token whose key is changed to another user's staging object,
// or whose size is raised, is refused (403) and writes nothing; a user cannot confirm,
// delete or read another user's pending upload.
func TestForgedUploadTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		bob := e.member("bob")
		victim := ticket(t, alice, 8)
		mine := ticket(t, bob, 8)
		tok := strings.TrimPrefix(mine.UploadURL, e.ts.URL+"/api/blobs/")
		payload, mac, _ := strings.Cut(tok, ".")
		vtok := strings.TrimPrefix(victim.UploadURL, e.ts.URL+"/api/blobs/")
		vpayload, _, _ := strings.Cut(vtok, ".")
		for name, forged := range map[string]string{
			"victim key, own signature": vpayload + "." + mac,
			"bigger size":               strings.Replace(payload, payload[:4], "_____"[:4], 1) + "." + mac,
			"no signature":              payload,
			"escaped slash":             url.PathEscape(vpayload + "/." + mac),
		} {
			tk := mine
			tk.UploadURL = e.ts.URL + "/api/blobs/" + forged
			if code, err := sendPut(tk, filled('m', 8)); err != nil || code != http.StatusForbidden {
				t.Fatalf("%s: %d %v, want 403", name, code, err)
			}
		}
		if got := storedBytes(t, e, store.StagingKeyFor(store.ObjectKeyFor(alice.user.ID, victim.DocumentID))); got != nil {
			t.Fatalf("victim's staging object written: %q", got)
		}
		for _, m := range []string{"POST /confirm", "DELETE ", "GET ", "GET /download", "PATCH "} {
			method, suffix, _ := strings.Cut(m, " ")
			var body any
			if method == "PATCH" {
				body = map[string]any{"filename": "pwned.txt"}
			}
			if code := bob.status(method, "/api/documents/"+victim.DocumentID+suffix, body); code != http.StatusNotFound {
				t.Fatalf("bob %s on alice's pending upload: %d, want 404", m, code)
			}
		}
		if code, _ := sendPut(victim, []byte("alice's!")); code != 200 {
			t.Fatalf("alice's own PUT after the forgeries: %d", code)
		}
		alice.call("POST", "/api/documents/"+victim.DocumentID+"/confirm", nil, 200)
		if used, _ := quotaOf(t, bob); used != 0 {
			t.Fatalf("bob charged %d", used)
		}
		if used, _ := quotaOf(t, alice); used != 8 {
			t.Fatalf("alice charged %d", used)
		}
		assertBooks(t, e)
	})
}

// rawPut writes an HTTP/1.1 PUT by hand, so the body can lie about its length. declared < 0
// sends the body chunked; closeAfter closes the connection after the body without waiting
// for more. It returns the status, or 0 when the server just closed the connection.
func rawPut(t *testing.T, e *env, tk uploadTicket, declared int, body []byte) int {
	t.Helper()
	u, err := url.Parse(tk.UploadURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b bytes.Buffer
	fmt.Fprintf(&b, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n", u.RequestURI(), u.Host)
	if declared < 0 {
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		fmt.Fprintf(&b, "%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	} else {
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", declared, body)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if declared > len(body) {
		conn.(*net.TCPConn).CloseWrite() // the rest never comes
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestUploadBodiesThatLie: on the local store a PUT whose Content-Length or chunked body is
// bigger or smaller than the declared size, or which promises more than it sends, is refused
// and stores nothing, and the URL stays usable for the honest body. On MinIO the presigned
// URL refuses any other length itself.
func TestUploadBodiesThatLie(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		_, local := e.opts.Blobs.(*blob.Local)
		c := e.member("mallory")
		const size = 1000
		tk := ticket(t, c, size)
		staging := store.StagingKeyFor(store.ObjectKeyFor(c.user.ID, tk.DocumentID))
		lies := []struct {
			name     string
			declared int
			body     []byte
		}{
			{"chunked, bigger", -1, filled('b', 5*size)},
			{"chunked, smaller", -1, filled('s', size/2)},
			{"chunked, empty", -1, nil},
			{"Content-Length bigger than the size", 5 * size, filled('b', 5*size)},
			{"Content-Length smaller than the size", size / 2, filled('s', size/2)},
			{"Content-Length right, body cut short", size, filled('c', size/2)},
		}
		for _, l := range lies {
			var code int
			if local {
				code = rawPut(t, e, tk, l.declared, l.body)
			} else { // a POST policy upload: the file part is what counts
				code, _ = sendPut(tk, l.body)
			}
			if code == 200 || code >= 500 && local {
				t.Fatalf("%s: %d", l.name, code)
			}
			if got := storedBytes(t, e, staging); got != nil {
				t.Fatalf("%s: %d bytes stored", l.name, len(got))
			}
		}
		// Content-Length equal to the size followed by extra bytes: only the declared bytes
		// are the body (the rest is a second request on the connection).
		honest := filled('h', size)
		code := 0
		if local {
			code = rawPut(t, e, tk, size, append(append([]byte{}, honest...), "GARBAGE"...))
		} else {
			code, _ = sendPut(tk, honest)
		}
		if code != 200 {
			t.Fatalf("honest PUT after the lies: %d", code)
		}
		var doc struct {
			SizeBytes int64 `json:"size_bytes"`
		}
		c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200, &doc)
		if doc.SizeBytes != size || !bytes.Equal(storedBytes(t, e, store.ObjectKeyFor(c.user.ID, tk.DocumentID)), honest) {
			t.Fatalf("confirmed %d bytes", doc.SizeBytes)
		}
		assertBooks(t, e)
	})
}

// TestParallelConfirmsChargeOnce: 12 parallel confirms of one upload all answer 200 and
// charge it once.
func TestParallelConfirmsChargeOnce(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		c := e.member("mallory")
		body := filled('p', 100<<10)
		tk := startUpload(t, c, "p.bin", "application/octet-stream", body)
		codes, err := parallel(12, func(int) (int, error) {
			return statusOf(c, "POST", "/api/documents/"+tk.DocumentID+"/confirm", nil)
		})
		if err != nil || count(codes, 200) != 12 {
			t.Fatalf("parallel confirms: %v %v", codes, err)
		}
		assertOnlyDocument(t, e, c, tk.DocumentID, body)
	})
}

// TestParallelConfirmsAcrossTheLimit: eight 200 KiB uploads on a 1 MiB quota, confirmed at
// once: exactly five fit, the other three are 413 and discarded with their objects.
func TestParallelConfirmsAcrossTheLimit(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		e.createUser("mallory", store.RoleUser, 1<<20)
		c := e.login("mallory", testPassword)
		const size = 200 << 10
		var ids []string
		for i := 0; i < 8; i++ {
			ids = append(ids, startUpload(t, c, "p.bin", "application/octet-stream", filled(byte('0'+i), size)).DocumentID)
		}
		codes, err := parallel(len(ids), func(i int) (int, error) {
			return statusOf(c, "POST", "/api/documents/"+ids[i]+"/confirm", nil)
		})
		if err != nil || count(codes, 200) != 5 || count(codes, http.StatusRequestEntityTooLarge) != 3 {
			t.Fatalf("confirms: %v %v, want five 200 and three 413", codes, err)
		}
		if used, _ := quotaOf(t, c); used != 5*size {
			t.Fatalf("used %d, want %d", used, 5*size)
		}
		for i, id := range ids {
			got := storedBytes(t, e, store.ObjectKeyFor(c.user.ID, id))
			if (codes[i] == 200) != (got != nil) {
				t.Fatalf("document %d (confirm %d): object present %v", i, codes[i], got != nil)
			}
		}
		assertBooks(t, e)
		assertNoStrayObjects(t, e)
	})
}

// TestUploadURLsAndOneShotsRaceTheAllowance: parallel upload-url requests and one-shot
// uploads on a 1 MiB quota never reserve more than the limit plus the allowance, never
// store more than the limit, and leave the counters equal to the documents.
func TestUploadURLsAndOneShotsRaceTheAllowance(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		e.createUser("mallory", store.RoleUser, 1<<20)
		c := e.login("mallory", testPassword)
		const size = 300 << 10
		var mu sync.Mutex
		var tickets []uploadTicket
		codes, err := parallel(12, func(i int) (int, error) {
			if i%3 == 0 {
				var buf bytes.Buffer
				ct := newMultipart(&buf, "one.bin", distinct('o', size, i))
				req, _ := http.NewRequest("POST", e.ts.URL+"/api/documents", &buf)
				req.Header.Set("Content-Type", ct)
				req.Header.Set("X-CSRF-Token", c.csrf)
				resp, err := c.hc.Do(req)
				if err != nil {
					return 0, err
				}
				resp.Body.Close()
				return resp.StatusCode, nil
			}
			b, _ := jsonBytes(map[string]any{"filename": "u.bin", "size_bytes": size})
			req, _ := http.NewRequest("POST", e.ts.URL+"/api/documents/upload-url", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", c.csrf)
			resp, err := c.hc.Do(req)
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			if resp.StatusCode == 201 {
				var tk uploadTicket
				if err := jsonDecode(resp.Body, &tk); err != nil {
					return 0, err
				}
				mu.Lock()
				tickets = append(tickets, tk)
				mu.Unlock()
			}
			return resp.StatusCode, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range codes {
			if code != 201 && code != http.StatusRequestEntityTooLarge && code != http.StatusTooManyRequests {
				t.Fatalf("statuses %v", codes)
			}
		}
		q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
		if q.UsedBytes+q.PendingBytes > 2<<20 || q.UsedBytes > 1<<20 {
			t.Fatalf("after the race: %+v (limit + allowance is %d)", q, 2<<20)
		}
		assertBooks(t, e)
		// Fill every granted URL and confirm them all at once: still within the limit.
		for i, tk := range tickets {
			if code, err := sendPut(tk, distinct('u', size, i)); err != nil || code != 200 {
				t.Fatalf("PUT: %d %v", code, err)
			}
		}
		if _, err := parallel(len(tickets), func(i int) (int, error) {
			return statusOf(c, "POST", "/api/documents/"+tickets[i].DocumentID+"/confirm", nil)
		}); err != nil {
			t.Fatal(err)
		}
		if used, _ := quotaOf(t, c); used > 1<<20 {
			t.Fatalf("used %d over the limit", used)
		}
		assertBooks(t, e)
		assertNoStrayObjects(t, e)
	})
}

// TestDeleteRacingConfirmReturnsQuotaOnce: deletes and confirms of the same uploads sent
// together give the bytes back exactly once and leave no object behind.
func TestDeleteRacingConfirmReturnsQuotaOnce(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		c := e.member("mallory")
		for round := 0; round < 6; round++ {
			tk := startUpload(t, c, "r.bin", "application/octet-stream", filled('r', 4096))
			codes, err := parallel(4, func(i int) (int, error) {
				if i%2 == 0 {
					return statusOf(c, "DELETE", "/api/documents/"+tk.DocumentID, nil)
				}
				return statusOf(c, "POST", "/api/documents/"+tk.DocumentID+"/confirm", nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			if count(codes, 204) != 1 {
				t.Fatalf("round %d: %v, want exactly one 204", round, codes)
			}
			for _, code := range codes {
				if code >= 500 {
					t.Fatalf("round %d: %v", round, codes)
				}
			}
		}
		q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
		if q.UsedBytes != 0 || q.PendingBytes != 0 {
			t.Fatalf("after every upload was deleted: %+v", q)
		}
		assertBooks(t, e)
		assertNoStrayObjects(t, e)
	})
}

// TestDeleteBetweenMoveAndCommitLeavesNoObject: a confirm that moved the staging object while
// the document was being deleted (the delete removed the object's key before the move wrote
// it) leaves no object behind: the confirm finds the row gone and removes what it moved.
func TestDeleteBetweenMoveAndCommitLeavesNoObject(t *testing.T) {
	forEachHookedCombination(t, func(t *testing.T, e *env, h *hookBlobs) {
		c := e.member("mallory")
		tk := startUpload(t, c, "r.bin", "application/octet-stream", filled('r', 4096))
		key := store.ObjectKeyFor(c.user.ID, tk.DocumentID)
		inMove, goMove := make(chan struct{}), make(chan struct{})
		inDel, goDel := make(chan struct{}), make(chan struct{})
		h.set(func(h *hookBlobs) {
			h.beforeMove = func(string, string) { close(inMove); <-goMove }
			h.beforeDel = func(k string) {
				if k == store.StagingKeyFor(key) {
					close(inDel)
					<-goDel
				}
			}
		})
		confirmed := make(chan int, 1)
		go func() {
			code, _ := statusOf(c, "POST", "/api/documents/"+tk.DocumentID+"/confirm", nil)
			confirmed <- code
		}()
		<-inMove // the confirm saw the upload pending
		deleted := make(chan int, 1)
		go func() {
			code, _ := statusOf(c, "DELETE", "/api/documents/"+tk.DocumentID, nil)
			deleted <- code
		}()
		<-inDel // the row is gone and the object's key deleted; the staging key is next
		h.set(func(h *hookBlobs) { h.beforeMove, h.beforeDel = nil, nil })
		close(goMove)
		if code := <-confirmed; code != http.StatusNotFound && code != http.StatusUnprocessableEntity {
			t.Fatalf("confirm of a deleted upload: %d", code)
		}
		close(goDel)
		if code := <-deleted; code != 204 {
			t.Fatalf("delete: %d", code)
		}
		q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
		if q.UsedBytes != 0 || q.PendingBytes != 0 {
			t.Fatalf("quota %+v", q)
		}
		if keys := objectKeys(t, e); len(keys) != 0 {
			t.Fatalf("objects left by a deleted upload: %v", keys)
		}
	})
}

// TestConfirmRaceCannotOverwriteConfirmedBytes: a second confirm that saw the upload pending
// must not copy a staging object written after the first confirm (a replayed presigned PUT)
// over the confirmed document's bytes.
func TestConfirmRaceCannotOverwriteConfirmedBytes(t *testing.T) {
	forEachHookedCombination(t, func(t *testing.T, e *env, h *hookBlobs) {
		_, local := h.Store.(*blob.Local)
		c := e.member("mallory")
		const size = 4096
		original := filled('X', size)
		tk := startUpload(t, c, "x.bin", "application/octet-stream", original)
		key := store.ObjectKeyFor(c.user.ID, tk.DocumentID)
		inMove, goMove := make(chan struct{}), make(chan struct{})
		var once sync.Once
		h.set(func(h *hookBlobs) {
			h.beforeMove = func(string, string) {
				first := false
				once.Do(func() { first = true })
				if first {
					close(inMove)
					<-goMove
				}
			}
		})
		late := make(chan int, 1)
		go func() {
			code, _ := statusOf(c, "POST", "/api/documents/"+tk.DocumentID+"/confirm", nil)
			late <- code
		}()
		<-inMove // the late confirm saw the upload pending
		first := make(chan int, 1)
		go func() {
			code, _ := statusOf(c, "POST", "/api/documents/"+tk.DocumentID+"/confirm", nil)
			first <- code
		}()
		replay := func() {
			code, err := sendPut(tk, filled('Y', size)) // the replayed URL
			if err != nil {
				t.Fatal(err)
			}
			if local && code != http.StatusGone {
				t.Fatalf("replayed PUT after confirm: %d", code)
			}
		}
		// Either the other confirm finishes while the late one is parked before its move (then
		// the URL is replayed before the late one moves), or confirms of one upload wait for
		// each other (then the replay comes after both). No signal exists for "is waiting",
		// so the second case is recognised by the first confirm not finishing in a second.
		select {
		case code := <-first:
			if code != 200 {
				t.Fatalf("confirm: %d", code)
			}
			replay()
			close(goMove)
			if code := <-late; code >= 500 {
				t.Fatalf("late confirm: %d", code)
			}
		case <-time.After(time.Second):
			close(goMove)
			if a, b := <-late, <-first; a != 200 || b != 200 {
				t.Fatalf("serialized confirms: %d %d", a, b)
			}
			replay()
		}
		if got := storedBytes(t, e, key); !bytes.Equal(got, original) {
			t.Fatalf("confirmed bytes overwritten by a replayed upload (%q...)", got[:8])
		}
		if used, _ := quotaOf(t, c); used != size {
			t.Fatalf("used %d", used)
		}
		sweep(t, e)
		assertNoStrayObjects(t, e)
		if keys := objectKeys(t, e); len(keys) != 1 || keys[0] != key {
			t.Fatalf("objects after the sweep: %v", keys)
		}
	})
}

// TestLocalPutRacingDeleteLeavesNoObject: a PUT that is still streaming when its document is
// deleted (or expires) is refused when it ends, and keeps nothing.
func TestLocalPutRacingDeleteLeavesNoObject(t *testing.T) {
	var h *hookBlobs
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("mallory")
		for _, how := range []string{"delete", "expire"} {
			tk := ticket(t, c, 4096)
			stored, goOn := make(chan struct{}), make(chan struct{})
			h.set(func(h *hookBlobs) { h.afterPut = func(string) { close(stored); <-goOn } })
			put := make(chan int, 1)
			go func() {
				code, _ := sendPut(tk, filled('p', 4096))
				put <- code
			}()
			<-stored // the body is in its staging object; the response is not sent yet
			h.set(func(h *hookBlobs) { h.afterPut = nil })
			if how == "delete" {
				c.call("DELETE", "/api/documents/"+tk.DocumentID, nil, 204)
			} else {
				e.clock.Add(2 * time.Hour)
				if err := e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: time.Hour}, "expire-pending"); err != nil {
					t.Fatal(err)
				}
			}
			close(goOn)
			if code := <-put; code == 200 {
				t.Fatalf("%s during the PUT: the PUT answered 200 for an upload that no longer exists", how)
			}
			if keys := objectKeys(t, e); len(keys) != 0 {
				t.Fatalf("%s during the PUT left objects: %v", how, keys)
			}
			c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 404)
		}
		assertBooks(t, e)
	}, withHooks(&h))
}

// TestExpiryRacingConfirm: expire-pending and confirms of uploads past the pending lifetime
// run together: each upload ends confirmed (and charged) or gone (and given back), never
// both, and nothing is left in the store that no row refers to.
func TestExpiryRacingConfirm(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		c := e.member("mallory")
		var ids []string
		for i := 0; i < 6; i++ {
			ids = append(ids, startUpload(t, c, "e.bin", "application/octet-stream", filled('e', 2048)).DocumentID)
		}
		e.clock.Add(61 * time.Minute)
		// The expiry job and every confirm, released together: the last slot is the job.
		var jobErr error
		results := testenv.Together(len(ids)+1, func(i int) int {
			if i == len(ids) {
				jobErr = e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: time.Hour}, "expire-pending")
				return 0
			}
			code, _ := statusOf(c, "POST", "/api/documents/"+ids[i]+"/confirm", nil)
			return code
		})
		codes := results[:len(ids)]
		if jobErr != nil {
			t.Fatal(jobErr)
		}
		var confirmed int64
		for i, id := range ids {
			_, err := e.store.Document(context.Background(), c.user.ID, id)
			switch {
			case codes[i] == 200 && err == nil:
				confirmed += 2048
			case codes[i] != 200 && errors.Is(err, store.ErrNotFound):
			default:
				t.Fatalf("upload %d: confirm %d, row %v", i, codes[i], err)
			}
		}
		if used, _ := quotaOf(t, c); used != confirmed {
			t.Fatalf("used %d, confirmed %d", used, confirmed)
		}
		if err := e.srv.RunJob(context.Background(), server.JobsConfig{}, "drain-deletions"); err != nil {
			t.Fatal(err)
		}
		assertBooks(t, e)
		assertNoStrayObjects(t, e)
	})
}

// TestMoveDoneButConfirmFailed: the blob store moves the staging object and then fails (the
// answer is lost, or its delete of the source fails): the confirm is a 503 and charges
// nothing; a retry charges once with the right bytes; a delete instead leaves nothing.
func TestMoveDoneButConfirmFailed(t *testing.T) {
	forEachHookedCombination(t, func(t *testing.T, e *env, h *hookBlobs) {
		c := e.member("mallory")
		for _, then := range []string{"retry", "delete", "expire"} {
			body := filled('m', 3000)
			tk := startUpload(t, c, "m.bin", "application/octet-stream", body)
			var once sync.Once
			h.set(func(h *hookBlobs) {
				h.afterMove = func(string, string) error {
					var err error
					once.Do(func() { err = errors.New("connection reset after the move") })
					return err
				}
			})
			c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, http.StatusServiceUnavailable)
			h.set(func(h *hookBlobs) { h.afterMove = nil })
			if used, _ := quotaOf(t, c); used != 0 {
				t.Fatalf("%s: charged %d by a failed confirm", then, used)
			}
			switch then {
			case "retry":
				c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)
				if used, _ := quotaOf(t, c); used != int64(len(body)) {
					t.Fatalf("retry: used %d", used)
				}
				if !bytes.Equal(storedBytes(t, e, store.ObjectKeyFor(c.user.ID, tk.DocumentID)), body) {
					t.Fatal("retry: bytes differ")
				}
				c.call("DELETE", "/api/documents/"+tk.DocumentID, nil, 204)
			case "delete":
				c.call("DELETE", "/api/documents/"+tk.DocumentID, nil, 204)
			case "expire":
				e.clock.Add(2 * time.Hour)
				if err := e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: time.Hour}, "expire-pending"); err != nil {
					t.Fatal(err)
				}
			}
			if keys := objectKeys(t, e); len(keys) != 0 {
				t.Fatalf("%s after a failed confirm left objects: %v", then, keys)
			}
		}
		q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
		if q.UsedBytes != 0 || q.PendingBytes != 0 {
			t.Fatalf("quota %+v", q)
		}
		assertBooks(t, e)
	})
}

// TestDatabaseFailsBetweenMoveAndCommit (Postgres): the database connection dies after the
// move and before the confirm commits: 503, nothing charged; the retry charges once.
func TestDatabaseFailsBetweenMoveAndCommit(t *testing.T) {
	var h *hookBlobs
	for _, kind := range []string{"local", "minio"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, "postgres", kind, withHooks(&h))
			c := e.member("mallory")
			body := filled('d', 5000)
			tk := startUpload(t, c, "d.bin", "application/octet-stream", body)
			var once sync.Once
			h.set(func(h *hookBlobs) {
				h.afterMove = func(string, string) error {
					once.Do(func() {
						// End every other connection of this test's pool: the confirm's
						// transaction starts on a dead one.
						_, err := e.store.DB().Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
							WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = (SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid())
							AND query NOT LIKE '%pg_terminate_backend%'`)
						if err != nil {
							t.Error(err)
						}
					})
					return nil
				}
			})
			code := c.status("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil)
			h.set(func(h *hookBlobs) { h.afterMove = nil })
			if code != 200 && code != http.StatusServiceUnavailable {
				t.Fatalf("confirm while the database connection dies: %d", code)
			}
			for i := 0; i < 20 && code != 200; i++ {
				code = c.status("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil)
			}
			if code != 200 {
				t.Fatalf("retried confirm: %d", code)
			}
			assertOnlyDocument(t, e, c, tk.DocumentID, body)
		})
	}
}

// TestAdminQuotaChangesRacingUploads: an admin lowering and raising a quota while the user
// confirms uploads never leaves used_bytes above the limit in force at the end, and the
// counters match the documents.
func TestAdminQuotaChangesRacingUploads(t *testing.T) {
	var f *fakeSizeBlobs
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		c := e.member("mallory") // 100 MiB
		var ids []string
		for i := 0; i < 10; i++ {
			ids = append(ids, pendingOfSize(t, c, f, 15<<20))
		}
		limits := []int64{50 << 20, 200 << 20, 30 << 20, 100 << 20, 45 << 20}
		codes, err := parallel(len(ids)+len(limits), func(i int) (int, error) {
			if i < len(limits) {
				return statusOf(admin, "PATCH", "/api/admin/users/"+c.user.ID, map[string]any{"limit_bytes": limits[i]})
			}
			return statusOf(c, "POST", "/api/documents/"+ids[i-len(limits)]+"/confirm", nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range codes {
			if code != 200 && code != http.StatusRequestEntityTooLarge {
				t.Fatalf("statuses %v", codes)
			}
		}
		q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
		n := count(codes[len(limits):], 200)
		if q.UsedBytes != int64(n)*15<<20 || q.UsedBytes > 200<<20 {
			t.Fatalf("%d confirmed, quota %+v", n, q)
		}
		// A lowered limit holds at once: 14 MiB of room refuses a 15 MiB upload, 15 takes it.
		admin.call("PATCH", "/api/admin/users/"+c.user.ID, map[string]any{"limit_bytes": q.UsedBytes + 14<<20}, 200)
		id := pendingOfSize(t, c, f, 15<<20)
		c.call("POST", "/api/documents/"+id+"/confirm", nil, http.StatusRequestEntityTooLarge)
		admin.call("PATCH", "/api/admin/users/"+c.user.ID, map[string]any{"limit_bytes": q.UsedBytes + 15<<20}, 200)
		id = pendingOfSize(t, c, f, 15<<20)
		c.call("POST", "/api/documents/"+id+"/confirm", nil, 200)
		// The pending allowance is the limit: the books stay right whatever the order was.
		assertBooks(t, e)
	}, withFakeSizes(&f))
}

// TestExtremeSizesAndLimits: size_bytes of int64 max, negative, fractional, huge or as a
// string is refused with a 4xx and reserves nothing; a quota limit of int64 max (set by an
// admin) does not overflow the reservation arithmetic.
func TestExtremeSizesAndLimits(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		c := e.member("mallory")
		for _, raw := range []string{"9223372036854775807", "-1", "-9223372036854775808", "1.5", "1e30",
			"99999999999999999999999", `"10"`, "null", "18446744073709551615"} {
			body := `{"filename":"x.bin","size_bytes":` + raw + `}`
			resp := c.request("POST", "/api/documents/upload-url", strings.NewReader(body), "Content-Type", "application/json")
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Fatalf("size_bytes %s: %d %s", raw, resp.StatusCode, b)
			}
			detail(t, b)
		}
		q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
		if q.PendingBytes != 0 {
			t.Fatalf("refused sizes reserved %d", q.PendingBytes)
		}
		const maxInt64 = 1<<63 - 1
		for n, limit := range []int64{maxInt64, maxInt64 - 1, 1 << 62} {
			code := admin.status("PATCH", "/api/admin/users/"+c.user.ID, map[string]any{"limit_bytes": limit})
			if code >= 500 {
				t.Fatalf("limit %d: %d", limit, code)
			}
			if code != 200 {
				continue // a bounded limit is a fine answer too
			}
			tk := ticket(t, c, 1000) // no overflow in used + pending + size <= limit + allowance
			if code, _ := sendPut(tk, distinct('l', 1000, n)); code != 200 {
				t.Fatalf("PUT: %d", code)
			}
			c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)
			var buf bytes.Buffer
			ct := newMultipart(&buf, "one.bin", []byte("one-shot "+strconv.Itoa(n)))
			resp := c.request("POST", "/api/documents", &buf, "Content-Type", ct)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				t.Fatalf("one-shot with limit %d: %d", limit, resp.StatusCode)
			}
			if code := c.status("GET", "/api/auth/me/quota", nil); code != 200 {
				t.Fatalf("quota with limit %d: %d", limit, code)
			}
		}
		for _, limit := range []string{"-1", "9223372036854775808", "1e40"} {
			resp := admin.request("PATCH", "/api/admin/users/"+c.user.ID, strings.NewReader(`{"limit_bytes":`+limit+`}`), "Content-Type", "application/json")
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Fatalf("limit %s: %d", limit, resp.StatusCode)
			}
		}
		assertBooks(t, e)
	})
}

// TestHostileFilenames: NUL bytes, invalid UTF-8, bidi overrides and path tricks in a
// filename are refused with 400 on both upload routes, and nothing is reserved or stored.
func TestHostileFilenames(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("mallory")
		names := []string{"a\x00b.pdf", "\xff\xfe.pdf", "bad\xc3(.pdf", "evil\u202Efdp.exe", "a\u2028b", "x\x1b[31m.pdf", ""}
		for _, name := range names {
			body := `{"filename":"` + jsonRaw(name) + `","size_bytes":10}`
			resp := c.request("POST", "/api/documents/upload-url", strings.NewReader(body), "Content-Type", "application/json")
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("upload-url filename %q: %d %s", name, resp.StatusCode, b)
			}
			detail(t, b)
			if name == "" {
				continue
			}
			var buf bytes.Buffer
			ct := newMultipart(&buf, name, []byte("data"))
			resp = c.request("POST", "/api/documents", &buf, "Content-Type", ct)
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("one-shot filename %q: %d %s", name, resp.StatusCode, b)
			}
		}
		// Path tricks are just names: the object key never comes from them.
		for _, name := range []string{"../../etc/passwd", "..", "/abs", `C:\x`} {
			code := c.status("POST", "/api/documents/upload-url", map[string]any{"filename": name, "size_bytes": 3})
			if code >= 500 {
				t.Fatalf("filename %q: %d", name, code)
			}
		}
		q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
		var pending int64
		var list struct {
			Items []struct {
				SizeBytes int64 `json:"size_bytes"`
			} `json:"items"`
		}
		c.call("GET", "/api/documents?status=pending", nil, 200, &list)
		for _, d := range list.Items {
			pending += d.SizeBytes
		}
		if q.PendingBytes != pending || q.UsedBytes != 0 {
			t.Fatalf("quota %+v, pending documents declare %d", q, pending)
		}
		if keys := objectKeys(t, e); len(keys) != 0 {
			t.Fatalf("objects stored by refused uploads: %v", keys)
		}
	})
}

// jsonRaw puts s into a JSON string as raw bytes (invalid UTF-8 stays invalid), escaping only
// what would end the string.
func jsonRaw(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch < 0x20:
			fmt.Fprintf(&b, `\u%04x`, ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// TestSweepRacingLiveUploads: the integrity sweep runs again and again (with every object
// older than the URL lifetime, as far as it can tell) while uploads are requested, sent,
// confirmed and deleted, and while the quota counters need repair: it never deletes the
// staging object of a pending upload nor a confirmed document's object, every confirm finds
// its bytes, and the counters end equal to the documents.
func TestSweepRacingLiveUploads(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		c := e.member("mallory")
		e.clock.Add(time.Hour) // every object looks older than the URL lifetime
		stop := make(chan struct{})
		sweepErr := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					sweepErr <- nil
					return
				default:
				}
				// Drift the counters, so the sweep's repair runs against live reservations.
				if _, err := e.store.DB().Exec(`UPDATE quotas SET used_bytes = used_bytes + 1, pending_bytes = pending_bytes + 1 WHERE user_id = $1`, c.user.ID); err != nil {
					sweepErr <- err
					return
				}
				if err := e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: 24 * time.Hour}, "integrity-sweep"); err != nil {
					sweepErr <- err
					return
				}
			}
		}()
		type result struct {
			id   string
			body []byte
		}
		results := make([][]result, 4)
		_, err := parallel(4, func(w int) (int, error) {
			for i := 0; i < 8; i++ {
				body := filled(byte('a'+w), 1000+w*100+i)
				b, _ := jsonBytes(map[string]any{"filename": "s.bin", "size_bytes": len(body)})
				req, _ := http.NewRequest("POST", e.ts.URL+"/api/documents/upload-url", bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-CSRF-Token", c.csrf)
				resp, err := c.hc.Do(req)
				if err != nil {
					return 0, err
				}
				var tk uploadTicket
				err = jsonDecode(resp.Body, &tk)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 201 {
					return resp.StatusCode, fmt.Errorf("upload-url: %d %v", resp.StatusCode, err)
				}
				// As the web UI does: the sweep's and the confirms' deletes empty MinIO folders
				// that these uploads land in (see testenv.SendAsBrowser).
				if code, msg, err := testenv.SendAsBrowser(t, tk.Method, tk.UploadURL, tk.Headers, tk.Fields, body); err != nil || code != 200 {
					return code, fmt.Errorf("PUT: %d %v %s", code, err, msg)
				}
				if code, err := statusOf(c, "POST", "/api/documents/"+tk.DocumentID+"/confirm", nil); err != nil || code != 200 {
					return code, fmt.Errorf("confirm after PUT (staging object swept?): %d %v", code, err)
				}
				if i%3 == 2 {
					if code, err := statusOf(c, "DELETE", "/api/documents/"+tk.DocumentID, nil); err != nil || code != 204 {
						return code, fmt.Errorf("delete: %d %v", code, err)
					}
					continue
				}
				results[w] = append(results[w], result{tk.DocumentID, body})
			}
			return 0, nil
		})
		close(stop)
		if serr := <-sweepErr; serr != nil {
			t.Fatal(serr)
		}
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, rs := range results {
			for _, r := range rs {
				if got := storedBytes(t, e, store.ObjectKeyFor(c.user.ID, r.id)); !bytes.Equal(got, r.body) {
					t.Fatalf("document %s: %d bytes stored, %d confirmed", r.id, len(got), len(r.body))
				}
				total += int64(len(r.body))
			}
		}
		if err := e.srv.RunJob(context.Background(), server.JobsConfig{}, "drain-deletions"); err != nil {
			t.Fatal(err)
		}
		q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
		if q.UsedBytes != total || q.PendingBytes != 0 {
			t.Fatalf("quota %+v, confirmed documents hold %d", q, total)
		}
		assertBooks(t, e)
		assertNoStrayObjects(t, e)
	})
}

// TestSweepKeepsPendingReservations: the sweep's repair of the pending counter, racing
// upload-url requests (Postgres runs them truly in parallel), never loses a reservation:
// afterwards pending_bytes still equals the pending uploads' declared sizes.
func TestSweepKeepsPendingReservations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("mallory")
		for round := 0; round < 15; round++ {
			if _, err := e.store.DB().Exec(`UPDATE quotas SET pending_bytes = pending_bytes + 7 WHERE user_id = $1`, c.user.ID); err != nil {
				t.Fatal(err)
			}
			_, err := parallel(7, func(i int) (int, error) {
				if i == 0 {
					return 0, e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: 24 * time.Hour}, "integrity-sweep")
				}
				return statusOf(c, "POST", "/api/documents/upload-url", map[string]any{"filename": "r.bin", "size_bytes": 1000 + i})
			})
			if err != nil {
				t.Fatal(err)
			}
			var held int64
			if err := e.store.DB().QueryRow(`SELECT COALESCE(SUM(size_bytes), 0) FROM documents WHERE user_id = $1 AND status = 'pending'`, c.user.ID).Scan(&held); err != nil {
				t.Fatal(err)
			}
			q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
			if q.PendingBytes != held && q.PendingBytes != held+7 {
				t.Fatalf("round %d: pending_bytes %d, pending uploads declare %d (a reservation was lost)", round, q.PendingBytes, held)
			}
			e.store.ReconcilePending(context.Background(), c.user.ID)
		}
	})
}

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// TestUploadURLCannotCopyAnotherObject: an upload URL carries only the bytes sent with it.
// A presigned S3 PUT did not sign the headers a client adds, so one sent with
// x-amz-copy-source became a server-side copy of any object in the bucket (another user's
// document, or one far larger than the declared size) into the caller's staging key, and
// confirm then made it the caller's document. Whatever the caller adds to the request,
// nothing of another object reaches its upload.
func TestUploadURLCannotCopyAnotherObject(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		mallory := e.member("mallory")
		secret := []byte("alice's secret document, 41 bytes long..")
		victim := store.ObjectKeyFor(alice.user.ID, uploadBytes(t, alice, "s.txt", "text/plain", secret))
		for _, size := range []int{0, len(secret)} {
			tk := ticket(t, mallory, size)
			staging := store.StagingKeyFor(store.ObjectKeyFor(mallory.user.ID, tk.DocumentID))
			u, _ := url.Parse(tk.UploadURL)
			bucket := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")[0]
			for _, target := range []string{tk.UploadURL, strings.TrimSuffix(tk.UploadURL, "/") + "/" + staging} {
				for _, method := range []string{tk.Method, "PUT"} {
					req, err := testenv.UploadRequest(method, target, tk.Headers, tk.Fields, nil)
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("X-Amz-Copy-Source", "/"+bucket+"/"+victim)
					req.Header.Set("X-Amz-Metadata-Directive", "REPLACE")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if got := storedBytes(t, e, staging); bytes.Contains(got, []byte("secret")) {
						t.Fatalf("%s %s with x-amz-copy-source (size %d): %d, another user's bytes copied into the upload", method, target, size, resp.StatusCode)
					}
				}
			}
			resp := mallory.request("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				resp := mallory.request("GET", "/api/documents/"+tk.DocumentID+"/download", nil)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if loc := resp.Header.Get("Location"); loc != "" {
					r2, err := http.Get(loc)
					if err != nil {
						t.Fatal(err)
					}
					b, _ = io.ReadAll(r2.Body)
					r2.Body.Close()
				}
				if bytes.Contains(b, []byte("secret")) {
					t.Fatalf("mallory downloads alice's document through her own upload")
				}
			}
		}
		if used, _ := quotaOf(t, mallory); used != 0 {
			t.Fatalf("mallory charged %d for bytes she never sent", used)
		}
	})
}

// TestOneShotRacingDeleteLeavesNoObject: a one-shot upload whose pending document is deleted
// (it is listed while it streams) before its bytes are stored answers 404 and keeps none.
func TestOneShotRacingDeleteLeavesNoObject(t *testing.T) {
	forEachHookedCombination(t, func(t *testing.T, e *env, h *hookBlobs) {
		c := e.member("mallory")
		h.set(func(h *hookBlobs) {
			h.beforePut = func(string) {
				var list struct {
					Items []struct {
						ID string `json:"id"`
					} `json:"items"`
				}
				c.call("GET", "/api/documents?status=pending", nil, 200, &list)
				if len(list.Items) != 1 {
					t.Errorf("pending while streaming: %+v", list)
					return
				}
				c.call("DELETE", "/api/documents/"+list.Items[0].ID, nil, 204)
			}
		})
		oneShot(t, c, "o.txt", []byte("one-shot bytes"), http.StatusNotFound)
		h.set(func(h *hookBlobs) { h.beforePut = nil })
		if keys := objectKeys(t, e); len(keys) != 0 {
			t.Fatalf("objects left by a deleted one-shot upload: %v", keys)
		}
		q, _ := e.store.QuotaOf(context.Background(), c.user.ID)
		if q.UsedBytes != 0 || q.PendingBytes != 0 {
			t.Fatalf("quota %+v", q)
		}
	})
}

// TestAdminDeletesUserRacingUploads: an admin deletes a user while the user's uploads are
// sent, confirmed and started: every request ends in a 4xx or success, and once the
// deletion outbox has drained nothing of the user is left in the store.
func TestAdminDeletesUserRacingUploads(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		c := e.member("mallory")
		var ready []uploadTicket
		for i := 0; i < 4; i++ {
			ready = append(ready, startUpload(t, c, "r.bin", "application/octet-stream", filled('r', 3000)))
		}
		var open []uploadTicket
		for i := 0; i < 3; i++ {
			open = append(open, ticket(t, c, 2000))
		}
		n := len(ready) + len(open) + 3
		codes, err := parallel(n, func(i int) (int, error) {
			switch {
			case i == 0:
				return statusOf(admin, "DELETE", "/api/admin/users/"+c.user.ID, nil)
			case i <= len(ready):
				return statusOf(c, "POST", "/api/documents/"+ready[i-1].DocumentID+"/confirm", nil)
			case i <= len(ready)+len(open):
				return sendPut(open[i-1-len(ready)], filled('o', 2000))
			default:
				return statusOf(c, "POST", "/api/documents/upload-url", map[string]any{"filename": "late.bin", "size_bytes": 10})
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if codes[0] != 204 {
			t.Fatalf("admin delete: %v", codes)
		}
		for _, code := range codes {
			if code >= 500 {
				t.Fatalf("statuses %v", codes)
			}
		}
		if err := e.srv.RunJob(context.Background(), server.JobsConfig{}, "drain-deletions"); err != nil {
			t.Fatal(err)
		}
		if keys := keysUnder(t, e, c.user.ID); len(keys) != 0 {
			t.Fatalf("objects of a deleted user left: %v", keys)
		}
	})
}

// keysUnder lists the objects whose key names userID.
func keysUnder(t *testing.T, e *env, userID string) []string {
	var out []string
	for _, k := range objectKeys(t, e) {
		if strings.Contains(k, userID) {
			out = append(out, k)
		}
	}
	return out
}

// halfRead signals once half of a body has been read and written (on the read after it).
type halfRead struct {
	r    io.Reader
	n    int
	half int
	once sync.Once
	at   chan struct{}
}

func (h *halfRead) Read(p []byte) (int, error) {
	if h.n >= h.half {
		h.once.Do(func() { close(h.at) })
	}
	n, err := h.r.Read(p)
	h.n += n
	return n, err
}

// TestSweepKeepsStalledUploadTempFile: a local upload whose body pauses longer than the
// temp-file age (but within the upload timeout) keeps its temp file through the integrity
// sweep and completes; before, the sweep removed it and the upload failed with a 503.
func TestSweepKeepsStalledUploadTempFile(t *testing.T) {
	var h *hookBlobs
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("mallory")
		const size = 256 << 10
		tk := ticket(t, c, size)
		at := make(chan struct{})
		h.set(func(h *hookBlobs) {
			h.wrapBody = func(r io.Reader) io.Reader { return &halfRead{r: r, half: size / 2, at: at} }
		})
		pr, pw := io.Pipe()
		req, _ := http.NewRequest("PUT", tk.UploadURL, pr)
		req.ContentLength = size
		done := make(chan int, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		body := filled('s', size)
		go pw.Write(body[:size/2])
		<-at // half the body is on disk; the client pauses
		h.set(func(h *hookBlobs) { h.wrapBody = nil })
		local := h.Store.(*blob.Local)
		local.SetClock(func() time.Time { return time.Now().Add(20 * time.Minute) })
		if err := e.srv.RunJob(context.Background(), server.JobsConfig{PendingTTL: time.Hour}, "integrity-sweep"); err != nil {
			t.Fatal(err)
		}
		local.SetClock(time.Now)
		if _, err := pw.Write(body[size/2:]); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		if code := <-done; code != 200 {
			t.Fatalf("upload paused 20 minutes (within the 30-minute upload timeout): %d", code)
		}
		c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)
		if !bytes.Equal(storedBytes(t, e, store.ObjectKeyFor(c.user.ID, tk.DocumentID)), body) {
			t.Fatal("bytes differ")
		}
	}, withHooks(&h))
}
