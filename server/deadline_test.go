package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// newEnvOnStore is newEnv over a store the test opened itself (through a proxy, say).
func newEnvOnStore(t *testing.T, st *store.Store, blobs blob.Store, timeouts server.Timeouts) *env {
	t.Helper()
	if err := st.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC()}
	o := server.Options{Store: st, Blobs: blobs, Now: clk.Now, PasswordParams: cheap, Timeouts: timeouts,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Providers: []string{"local"}}
	srv, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, srv: srv, ts: ts, store: st, blobs: blobs, clock: clk, opts: o}
}

// deadlineCall is one request sent while a dependency hangs.
type deadlineCall struct {
	who          *client
	method, path string
	body         string
}

// expect503Within sends every call at once and checks that each is answered 503 with a
// JSON detail no later than limit.
func expect503Within(t *testing.T, calls []deadlineCall, limit time.Duration) {
	t.Helper()
	type result struct {
		call    deadlineCall
		status  int
		body    string
		elapsed time.Duration
		err     error
	}
	results := make(chan result, len(calls))
	for _, c := range calls {
		go func() {
			req, _ := http.NewRequest(c.method, c.who.e.ts.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			if c.who.csrf != "" {
				req.Header.Set("X-CSRF-Token", c.who.csrf)
			}
			if c.who.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+c.who.bearer)
			}
			hc := *c.who.hc
			hc.Timeout = limit + 5*time.Second
			t0 := time.Now()
			resp, err := hc.Do(req)
			r := result{call: c, err: err}
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				r.status, r.body = resp.StatusCode, string(b)
			}
			r.elapsed = time.Since(t0)
			results <- r
		}()
	}
	for range calls {
		r := <-results
		var d struct {
			Detail string `json:"detail"`
		}
		switch {
		case r.err != nil:
			t.Errorf("%s %s: no answer after %v: %v", r.call.method, r.call.path, r.elapsed, r.err)
		case r.status != http.StatusServiceUnavailable || json.Unmarshal([]byte(r.body), &d) != nil || d.Detail == "":
			t.Errorf("%s %s: %d %s, want 503 with a detail", r.call.method, r.call.path, r.status, r.body)
		case r.elapsed > limit:
			t.Errorf("%s %s: 503 after %v, later than %v", r.call.method, r.call.path, r.elapsed, limit)
		default:
			t.Logf("%s %s: 503 after %v (%s)", r.call.method, r.call.path, r.elapsed.Round(time.Millisecond), d.Detail)
		}
	}
}

// TestRequestDeadlineWhenDatabaseHangs freezes the database under signed-in requests (cookie
// session and API token) and an anonymous login: each answers 503 within the request
// deadline instead of hanging. On PostgreSQL the server reaches the database through a proxy
// that stops forwarding, as with SIGSTOP, and once the answers are out no connection may
// stay checked out (the session lookup and every query honoured the deadline); on SQLite
// another process holds the write lock.
func TestRequestDeadlineWhenDatabaseHangs(t *testing.T) {
	const deadline = 1500 * time.Millisecond
	limit := deadline + 700*time.Millisecond
	timeouts := server.Timeouts{Request: deadline}
	calls := func(e *env) (session, script *client, all []deadlineCall) {
		session = e.member("alice")
		var tok struct {
			Token string `json:"token"`
		}
		session.call("POST", "/api/auth/me/tokens", map[string]string{"name": "script"}, 201, &tok)
		script = e.anonymous()
		script.bearer = tok.Token
		return session, script, []deadlineCall{
			{who: session, method: "GET", path: "/api/auth/me"},
			{who: session, method: "GET", path: "/api/documents"},
			{who: session, method: "POST", path: "/api/topics", body: `{"name":"frozen"}`},
			{who: script, method: "GET", path: "/api/auth/me/quota"},
			{who: script, method: "POST", path: "/api/documents/upload-url", body: `{"filename":"a.txt","content_type":"text/plain","size_bytes":3}`},
			{who: e.anonymous(), method: "POST", path: "/api/auth/login", body: `{"username":"alice","password":"wrong password!"}`},
		}
	}

	t.Run("postgres", func(t *testing.T) {
		dsn := testenv.DSN(t, "postgres")
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		proxy := startDBProxy(t, u.Host)
		u.Host = proxy.addr()
		st, err := store.Open(context.Background(), store.Postgres, u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		blobs, err := blob.NewLocal(t.TempDir(), []byte("test-upload-secret-0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		e := newEnvOnStore(t, st, blobs, timeouts)
		session, _, all := calls(e)

		proxy.freeze()
		expect503Within(t, all, limit)
		// Every query was cancelled at the deadline: nothing still holds a connection to the
		// frozen database (a lookup without the request's context would hold one until it thaws).
		var inUse int
		for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if inUse = st.DB().Stats().InUse; inUse == 0 {
				break
			}
		}
		if inUse != 0 {
			t.Errorf("%d database connections still in use after the deadline", inUse)
		}
		proxy.thaw()
		session.call("GET", "/api/auth/me", nil, 200) // the session survived
	})

	t.Run("sqlite", func(t *testing.T) {
		path := testenv.DSN(t, "sqlite")
		st, err := store.Open(context.Background(), store.SQLite, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		blobs, err := blob.NewLocal(t.TempDir(), []byte("test-upload-secret-0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		e := newEnvOnStore(t, st, blobs, timeouts)
		session, script, _ := calls(e)

		// Another process takes the write lock and keeps it: writers wait (busy_timeout is
		// longer than the deadline).
		other, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		conn, err := other.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		expect503Within(t, []deadlineCall{
			{who: session, method: "POST", path: "/api/topics", body: `{"name":"locked"}`},
			{who: script, method: "POST", path: "/api/documents/upload-url", body: `{"filename":"a.txt","content_type":"text/plain","size_bytes":3}`},
			{who: e.anonymous(), method: "POST", path: "/api/auth/login", body: `{"username":"alice","password":"wrong password!"}`},
		}, limit)
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		session.call("POST", "/api/topics", map[string]string{"name": "after"}, 201)
	})
}

// hangGate, once on, holds blob reads until the test ends, whatever their context says.
type hangGate struct {
	on      atomic.Bool
	release chan struct{}
}

func (g *hangGate) wait() {
	if g.on.Load() {
		<-g.release
	}
}

// hangingLocal is the local store (its signed-upload receiver included) behind a hangGate.
type hangingLocal struct {
	*blob.Local
	gate *hangGate
}

func (h hangingLocal) Stat(ctx context.Context, key string) (blob.Info, error) {
	h.gate.wait()
	return h.Local.Stat(ctx, key)
}

func (h hangingLocal) Open(ctx context.Context, key string) (io.ReadSeekCloser, blob.Info, error) {
	h.gate.wait()
	return h.Local.Open(ctx, key)
}

func (h hangingLocal) Move(ctx context.Context, from, to string) (blob.Info, error) {
	h.gate.wait()
	return h.Local.Move(ctx, from, to)
}

// hangingS3 is the S3 store behind a hangGate.
type hangingS3 struct {
	blob.Store
	gate *hangGate
}

func (h hangingS3) Stat(ctx context.Context, key string) (blob.Info, error) {
	h.gate.wait()
	return h.Store.Stat(ctx, key)
}

func (h hangingS3) Move(ctx context.Context, from, to string) (blob.Info, error) {
	h.gate.wait()
	return h.Store.Move(ctx, from, to)
}

func (h hangingS3) PresignGet(ctx context.Context, key string, ttl time.Duration, disposition, contentType string) (string, error) {
	h.gate.wait()
	if p, ok := h.Store.(blob.GetPresigner); ok {
		return p.PresignGet(ctx, key, ttl, disposition, contentType)
	}
	return "", errors.New("no presigned downloads")
}

// TestRequestDeadlineWhenBlobStoreHangs makes the blob store hang in calls that ignore their
// context: confirm (which stats the object) and download still answer 503 at the deadline
// (download under the longer upload deadline).
func TestRequestDeadlineWhenBlobStoreHangs(t *testing.T) {
	const deadline = time.Second
	limit := deadline + 700*time.Millisecond
	for _, kind := range []string{"local", "minio"} {
		t.Run(kind, func(t *testing.T) {
			gate := &hangGate{release: make(chan struct{})}
			t.Cleanup(func() { close(gate.release) })
			e := newEnv(t, "sqlite", kind, func(o *server.Options) {
				if l, ok := o.Blobs.(*blob.Local); ok {
					o.Blobs = hangingLocal{Local: l, gate: gate}
				} else {
					o.Blobs = hangingS3{Store: o.Blobs, gate: gate}
				}
				o.Timeouts = server.Timeouts{Request: deadline, Upload: deadline}
			})
			alice := e.member("alice")
			done := uploadBytes(t, alice, "done.txt", "text/plain", []byte("done"))
			tk := startUpload(t, alice, "a.txt", "text/plain", []byte("abc"))
			gate.on.Store(true)
			expect503Within(t, []deadlineCall{
				{who: alice, method: "POST", path: "/api/documents/" + tk.DocumentID + "/confirm"},
				{who: alice, method: "GET", path: "/api/documents/" + done + "/download"},
			}, limit)
		})
	}
}
