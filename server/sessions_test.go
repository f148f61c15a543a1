package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

func countSessions(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.store.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAnonymousRequestsStoreNoSession sends 300 anonymous GET /api/auth/csrf (8 at a time)
// and some failed logins: none may leave a row in the sessions table or set a cookie. Only
// a login stores one.
func TestAnonymousRequestsStoreNoSession(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", "user", 1000)
		const n, workers = 300, 8
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					resp, err := http.Get(e.ts.URL + "/api/auth/csrf")
					if err != nil {
						errs <- err.Error()
						continue
					}
					resp.Body.Close()
					if resp.StatusCode != 200 || len(resp.Cookies()) != 0 {
						errs <- resp.Status + " cookies " + resp.Header.Get("Set-Cookie")
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatalf("anonymous csrf: %s", e)
		}
		e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "wrong password!"}, 401)
		if got := countSessions(t, e); got != 0 {
			t.Fatalf("%d anonymous requests left %d session rows", n, got)
		}
		c := e.login("alice", testPassword)
		if got := countSessions(t, e); got != 1 {
			t.Fatalf("after one login: %d session rows", got)
		}
		// The signed-in session's token is stored, stable, and accepted.
		var a, b map[string]string
		c.call("GET", "/api/auth/csrf", nil, 200, &a)
		c.call("GET", "/api/auth/csrf", nil, 200, &b)
		if a["csrf_token"] != c.csrf || b["csrf_token"] != c.csrf {
			t.Fatalf("signed-in csrf tokens %v %v, login gave %q", a, b, c.csrf)
		}
		c.call("POST", "/api/topics", map[string]string{"name": "ok"}, 201)
	})
}

// TestSessionlessRoutesNeverTouchSessions moves the sessions table away while a signed-in
// browser (cookie sent) calls the routes that need no session: static files, health,
// metrics, the API description, unknown API paths and a blob upload. They all answer as
// usual and set no cookie; a session route, for contrast, fails.
func TestSessionlessRoutesNeverTouchSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		var tk uploadTicket
		alice.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.txt", "content_type": "text/plain", "size_bytes": 3}, 201, &tk)
		db := e.store.DB()
		if _, err := db.Exec(`ALTER TABLE sessions RENAME TO sessions_away`); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := db.Exec(`ALTER TABLE sessions_away RENAME TO sessions`); err != nil {
				t.Fatal(err)
			}
		}()
		for _, r := range []struct {
			method, path string
			want         int
		}{
			{"GET", "/", 200}, {"GET", "/app.js", 200}, {"GET", "/app.css", 200}, {"GET", "/nope.js", 404},
			{"GET", "/healthz", 200}, {"GET", "/readyz", 200}, {"GET", "/metrics", 200},
			{"GET", "/api/openapi.json", 200}, {"GET", "/api/nope", 404}, {"POST", "/api/nope", 404},
		} {
			resp := alice.request(r.method, r.path, nil)
			resp.Body.Close()
			if resp.StatusCode != r.want || resp.Header.Get("Set-Cookie") != "" {
				t.Errorf("%s %s: %d (want %d), Set-Cookie %q", r.method, r.path, resp.StatusCode, r.want, resp.Header.Get("Set-Cookie"))
			}
		}
		// The blob PUT goes with the browser's cookie, as a browser would send it.
		req, _ := http.NewRequest(tk.Method, tk.UploadURL, bytes.NewReader([]byte("abc")))
		for k, v := range tk.Headers {
			req.Header.Set(k, v)
		}
		for _, ck := range alice.hc.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("blob PUT without the sessions table: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
		}
		if code := alice.status("GET", "/api/auth/me", nil); code != http.StatusServiceUnavailable {
			t.Errorf("a session route without the sessions table: %d, want 503", code)
		}
	})
}

// TestUnknownAPIPathsAre404ForEveryone: an admin gets 404, not 403, for /api/settings and
// any unknown /api/ path (the 403 is for real document and topic routes), and so do users
// and anonymous callers.
func TestUnknownAPIPathsAre404ForEveryone(t *testing.T) {
	e := newEnv(t, "sqlite", "local")
	admin := e.admin("root")
	member := e.member("alice")
	anon := e.anonymous()
	for _, c := range []*client{admin, member, anon} {
		for _, r := range [][2]string{
			{"GET", "/api/settings"}, {"PUT", "/api/settings"}, {"GET", "/api/nope"}, {"DELETE", "/api/nope/deeper"},
			{"POST", "/api/documentsx"}, {"GET", "/api/documents/x/y/z"}, {"GET", "/api/admin/nope"}, {"GET", "/api"},
		} {
			b := c.call(r[0], r[1], map[string]any{}, 404)
			if d := detail(t, b); d != "not found" {
				t.Errorf("%s %s: detail %v", r[0], r[1], d)
			}
		}
	}
	admin.call("GET", "/api/documents", nil, 403)
	admin.call("GET", "/api/topics", nil, 403)
	member.call("GET", "/api/admin/users", nil, 403)
	anon.call("GET", "/api/documents", nil, 401)
}

// TestSessionStoreFailureAnswersOnce: when the session cannot be stored, a login answers
// one 503 with one JSON body (not 503 followed by the user and its CSRF token).
func TestSessionStoreFailureAnswersOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", "user", 1000)
		if _, err := e.store.DB().Exec(`ALTER TABLE sessions RENAME TO sessions_away`); err != nil {
			t.Fatal(err)
		}
		b := e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 503)
		if d := detail(t, b); d == nil || strings.Contains(string(b), "csrf_token") {
			t.Fatalf("login without a session store: %s", b)
		}
	})
}

// TestSessionIdleTimeoutSlides: a request that changes nothing in a session writes it only
// once its expiry would move by more than a refresh interval (a 60th of the idle timeout
// here; TestUploadCycleStatementBudget shows the writes left out), and the idle timeout
// still slides with use: requests spread over twice the timeout keep the session, and the
// timeout's worth of quiet ends it.
func TestSessionIdleTimeoutSlides(t *testing.T) {
	const idle = 900 * time.Millisecond
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", "user", 1000)
		c := e.login("alice", testPassword)
		expiry := func() float64 {
			t.Helper()
			var x float64
			q := `SELECT expiry FROM sessions`
			if e.store.Dialect() == store.Postgres {
				q = `SELECT extract(epoch FROM expiry)::float8 FROM sessions`
			}
			if err := e.store.DB().QueryRowContext(context.Background(), q).Scan(&x); err != nil {
				t.Fatal(err)
			}
			return x
		}
		before := expiry()
		for end := time.Now().Add(2 * idle); time.Now().Before(end); {
			time.Sleep(idle / 6)
			c.call("GET", "/api/auth/me", nil, 200)
		}
		if expiry() == before {
			t.Fatalf("the session's expiry never moved over %v of requests", 2*idle)
		}
		time.Sleep(idle + 100*time.Millisecond)
		c.call("GET", "/api/auth/me", nil, 401)
	}, func(o *server.Options) { o.SessionIdle = idle })
}
