package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// cheap keeps password hashing fast in tests; production uses DefaultPasswordParams.
var cheap = server.PasswordParams{Memory: 1024, Time: 1, Threads: 1}

const testPassword = "correct horse battery"

// clock is a settable time source shared by the store and the server.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	live bool          // follows the wall clock (tests with a worker pool, whose retries wait real time)
	off  time.Duration // what Add has moved a live clock ahead of the wall clock
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live {
		return time.Now().UTC().Add(c.off)
	}
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live {
		c.off += d
		return
	}
	c.t = c.t.Add(d)
}

// runLive makes the clock follow the wall clock from now on (Add still moves it ahead).
func (c *clock) runLive() {
	c.mu.Lock()
	c.live = true
	c.mu.Unlock()
}

// failureLog is a logger whose lines are printed only if the test fails: the server's and
// the workers' account of what happened, without noise in passing runs.
func failureLog(t testing.TB) *slog.Logger {
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() && buf.Len() > 0 {
			t.Logf("server log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

type env struct {
	t     testing.TB
	srv   *server.Server
	ts    *httptest.Server
	store *store.Store
	blobs blob.Store
	clock *clock
	opts  server.Options
}

type envOption func(*server.Options)

// newEnv starts a server on a fresh database of dialect and a fresh blob store of kind.
func newEnv(t testing.TB, dialect, blobKind string, opts ...envOption) *env {
	t.Helper()
	return newEnvWithStore(t, dialect, blobKind, nil, opts...)
}

// newEnvWithStore is newEnv with options for the store as well (e.g. a connector that
// watches the statements it runs).
func newEnvWithStore(t testing.TB, dialect, blobKind string, storeOpts []store.Option, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Now().UTC()}
	st, err := store.Open(ctx, dialect, testenv.DSN(t, dialect), append([]store.Option{store.WithClock(clk.Now)}, storeOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	var blobs blob.Store
	switch blobKind {
	case "local":
		blobs, err = blob.NewLocal(t.TempDir(), []byte("test-upload-secret-0123456789"))
	case "minio":
		blobs, err = blob.NewS3(ctx, testenv.MinIO(t))
	}
	if err != nil {
		t.Fatal(err)
	}
	o := server.Options{Store: st, Blobs: blobs, Now: clk.Now, PasswordParams: cheap,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Providers: []string{"local", "openai", "anthropic"}}
	for _, f := range opts {
		f(&o)
	}
	srv, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, srv: srv, ts: ts, store: st, blobs: blobs, clock: clk, opts: o}
}

// forEachDialect runs fn on SQLite and on Postgres, with the local blob store.
func forEachDialect(t *testing.T, fn func(t *testing.T, e *env), opts ...envOption) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) { fn(t, newEnv(t, d, "local", opts...)) })
	}
}

// forEachCombination runs fn on every database × blob store.
func forEachCombination(t *testing.T, fn func(t *testing.T, e *env), opts ...envOption) {
	for _, d := range testenv.Dialects() {
		for _, b := range []string{"local", "minio"} {
			t.Run(d+"/"+b, func(t *testing.T) { fn(t, newEnv(t, d, b, opts...)) })
		}
	}
}

// client is one browser or script talking to the server.
type client struct {
	e      *env
	hc     *http.Client
	csrf   string
	bearer string
	user   store.User
}

func (e *env) anonymous() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// createUser adds an account with testPassword directly in the store.
func (e *env) createUser(name, role string, limit int64) store.User {
	e.t.Helper()
	hash, err := server.HashPassword(testPassword, cheap)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.store.CreateUser(context.Background(), store.NewUser{Username: name, PasswordHash: hash, Role: role, LimitBytes: limit})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// login signs name in with a session cookie and keeps its CSRF token.
func (e *env) login(name, password string) *client {
	e.t.Helper()
	c := e.anonymous()
	var out struct {
		User      map[string]any `json:"user"`
		CSRFToken string         `json:"csrf_token"`
	}
	c.call("POST", "/api/auth/login", map[string]string{"username": name, "password": password}, 200, &out)
	c.csrf = out.CSRFToken
	u, err := e.store.UserByUsername(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	c.user = u
	return c
}

// member creates a user with a 100 MiB quota and logs it in.
func (e *env) member(name string) *client {
	e.createUser(name, store.RoleUser, 100<<20)
	return e.login(name, testPassword)
}

func (e *env) admin(name string) *client {
	e.createUser(name, store.RoleAdmin, 0)
	return e.login(name, testPassword)
}

// request sends body (JSON-encoded unless it is an io.Reader) and returns the response.
func (c *client) request(method, path string, body any, headers ...string) *http.Response {
	c.e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		r = b
	case string:
		r = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		r = bytes.NewReader(buf)
	}
	url := path
	if strings.HasPrefix(path, "/") {
		url = c.e.ts.URL + path
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return resp
}

// call sends a request, checks the status and decodes the JSON answer into out (if given).
func (c *client) call(method, path string, body any, want int, out ...any) []byte {
	c.e.t.Helper()
	resp := c.request(method, path, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, want, b)
	}
	if len(out) > 0 && out[0] != nil {
		if err := json.Unmarshal(b, out[0]); err != nil {
			c.e.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return b
}

// status sends a request and returns only its status.
func (c *client) status(method, path string, body any) int {
	c.e.t.Helper()
	resp := c.request(method, path, body)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// detail decodes {"detail": …}.
func detail(t *testing.T, b []byte) any {
	t.Helper()
	var out struct {
		Detail any `json:"detail"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("error body %s: %v", b, err)
	}
	return out.Detail
}

// withQueue rebuilds the server on the same database and blobs with a classification queue.
func (e *env) withQueue(q server.Queue) *env {
	e.t.Helper()
	o := e.opts
	o.Queue = q
	srv, err := server.New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	e.t.Cleanup(ts.Close)
	return &env{t: e.t, srv: srv, ts: ts, store: e.store, blobs: e.blobs, clock: e.clock, opts: o}
}
