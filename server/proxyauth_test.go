package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

func withProxyAuth(trusted string, autoCreate bool, logs *testenv.SyncBuffer) envOption {
	return func(o *server.Options) {
		o.TrustedProxies = []string{trusted}
		o.ProxyAuth = server.ProxyAuth{Header: "Remote-User", GroupsHeader: "Remote-Groups", EmailHeader: "Remote-Email",
			AdminGroups: []string{"docuvault-admins"}, AutoCreate: autoCreate}
		if logs != nil {
			o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		}
	}
}

// proxied sends a request as the proxy would, with its headers.
func (c *client) proxied(method, path string, body any, user, groups string) (int, []byte) {
	c.e.t.Helper()
	h := []string{"Remote-Email", user + "@example.org"}
	if user != "" {
		h = append(h, "Remote-User", user)
	}
	if groups != "" {
		h = append(h, "Remote-Groups", groups)
	}
	resp := c.request(method, path, body, h...)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestProxyAuthFromTrustedProxy: the proxy's Remote-User signs in (creating the account
// with the default quota), through a session whose CSRF token is required like after a
// password login; Remote-Groups grants and removes admin on each request; a request
// without the header ends the proxy's session; another name switches the session.
func TestProxyAuthFromTrustedProxy(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.createUser("root", store.RoleAdmin, 0) // so alice is never the last admin
		c := e.anonymous()
		code, b := c.proxied("GET", "/api/auth/me", nil, "alice", "family")
		if code != 200 || !strings.Contains(string(b), `"username":"alice"`) || !strings.Contains(string(b), `"role":"user"`) {
			t.Fatalf("first request: %d %s", code, b)
		}
		u, err := e.store.UserByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if q, _ := e.store.QuotaOf(ctx, u.ID); q.LimitBytes != 100<<20 {
			t.Errorf("quota of a proxy-created user: %d", q.LimitBytes)
		}
		var email *string // the proxy's Remote-Email is recorded on the account
		if err := e.store.DB().QueryRow(`SELECT email FROM users WHERE id = $1`, u.ID).Scan(&email); err != nil || email == nil || *email != "alice@example.org" {
			t.Errorf("email of a proxy-created user: %v %v", email, err)
		}
		// Unsafe requests need the session's CSRF token.
		if code, _ := c.proxied("POST", "/api/topics", map[string]any{"name": "Garden"}, "alice", "family"); code != 403 {
			t.Errorf("POST without CSRF token: %d, want 403", code)
		}
		var tok struct {
			CSRF string `json:"csrf_token"`
		}
		_, b = c.proxied("GET", "/api/auth/csrf", nil, "alice", "family")
		if err := json.Unmarshal(b, &tok); err != nil || tok.CSRF == "" {
			t.Fatalf("csrf: %s", b)
		}
		c.csrf = tok.CSRF
		if code, b := c.proxied("POST", "/api/topics", map[string]any{"name": "Garden"}, "alice", "family"); code != 201 {
			t.Errorf("POST with CSRF token: %d %s", code, b)
		}
		// A password does not open a proxy-made account.
		if code := e.anonymous().status("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "!external"}); code != 401 {
			t.Errorf("password login of a proxy account: %d", code)
		}

		// Groups: admin granted, then removed.
		if code, b := c.proxied("GET", "/api/auth/me", nil, "alice", "family|docuvault-admins"); code != 200 || !strings.Contains(string(b), `"role":"admin"`) {
			t.Fatalf("with the admin group: %d %s", code, b)
		}
		if code, _ := c.proxied("GET", "/api/documents", nil, "alice", "family|docuvault-admins"); code != 403 {
			t.Errorf("admin reading documents: %d, want 403", code)
		}
		if code, b := c.proxied("GET", "/api/auth/me", nil, "alice", "family"); code != 200 || !strings.Contains(string(b), `"role":"user"`) {
			t.Fatalf("admin group removed: %d %s", code, b)
		}
		if code, _ := c.proxied("GET", "/api/documents", nil, "alice", "family"); code != 200 {
			t.Errorf("documents as a user again: %d", code)
		}

		// Another name on the same cookie: the session switches to bob.
		if code, b := c.proxied("GET", "/api/auth/me", nil, "bob", ""); code != 200 || !strings.Contains(string(b), `"username":"bob"`) {
			t.Fatalf("switch to bob: %d %s", code, b)
		}
		// No header any more: the proxy's session ends.
		if code, _ := c.proxied("GET", "/api/auth/me", nil, "", ""); code != 401 {
			t.Errorf("without the header: %d, want 401", code)
		}
		// A deactivated account is not signed in by the proxy.
		bob, _ := e.store.UserByUsername(ctx, "bob")
		off := false
		if _, err := e.store.UpdateUser(ctx, bob.ID, store.UserPatch{IsActive: &off}); err != nil {
			t.Fatal(err)
		}
		if code, _ := e.anonymous().proxied("GET", "/api/auth/me", nil, "bob", ""); code != 401 {
			t.Errorf("deactivated user: %d, want 401", code)
		}
		// An oversized name is no name (NUL bytes never get past net/http).
		if code, _ := e.anonymous().proxied("GET", "/api/auth/me", nil, strings.Repeat("e", 300), ""); code != 401 {
			t.Errorf("a 300-byte name: %d, want 401", code)
		}
	}, withProxyAuth("127.0.0.1/32", true, nil))
}

// TestProxyAuthIgnoredFromUntrustedPeer: the same headers from a peer outside
// server.trusted_proxies sign no one in, create no account, and are logged.
func TestProxyAuthIgnoredFromUntrustedPeer(t *testing.T) {
	logs := &testenv.SyncBuffer{}
	forEachDialect(t, func(t *testing.T, e *env) {
		logs.Reset()
		e.createUser("alice", store.RoleUser, 1<<20)
		for _, who := range []string{"alice", "mallory"} {
			if code, _ := e.anonymous().proxied("GET", "/api/auth/me", nil, who, "docuvault-admins"); code != 401 {
				t.Errorf("%s from an untrusted peer: %d, want 401", who, code)
			}
		}
		if _, err := e.store.UserByUsername(context.Background(), "mallory"); err == nil {
			t.Error("an account was created from an untrusted peer's header")
		}
		if !strings.Contains(logs.String(), "proxy auth header from an untrusted peer ignored") {
			t.Errorf("not logged: %s", logs.String())
		}
		// Password login still works for the same user, and the header does not take over.
		c := e.login("alice", testPassword)
		if code, b := c.proxied("GET", "/api/auth/me", nil, "mallory", ""); code != 200 || !strings.Contains(string(b), `"username":"alice"`) {
			t.Errorf("session with a forged header: %d %s", code, b)
		}
	}, withProxyAuth("192.0.2.0/24", true, logs))
}

// TestProxyAuthWithoutAutoCreate: only existing accounts are signed in.
func TestProxyAuthWithoutAutoCreate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		if code, _ := e.anonymous().proxied("GET", "/api/auth/me", nil, "stranger", ""); code != 401 {
			t.Errorf("unknown user: %d, want 401", code)
		}
		e.createUser("carol", store.RoleUser, 1<<20)
		if code, _ := e.anonymous().proxied("GET", "/api/auth/me", nil, "carol", ""); code != 200 {
			t.Errorf("existing user: %d, want 200", code)
		}
	}, withProxyAuth("127.0.0.1/32", false, nil))
}

// TestProxyAuthParallelFirstRequests: a page's first requests arrive together; each is
// signed in and exactly one account is made.
func TestProxyAuthParallelFirstRequests(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		codes := testenv.Together(8, func(int) int {
			code, _ := e.anonymous().proxied("GET", "/api/auth/me", nil, "frank", "")
			return code
		})
		for i, code := range codes {
			if code != 200 {
				t.Errorf("request %d: %d", i, code)
			}
		}
		users, err := e.store.ListUsers(context.Background())
		if err != nil || len(users) != 1 || users[0].Username != "frank" {
			t.Fatalf("users %v %v", users, err)
		}
	}, withProxyAuth("127.0.0.1/32", true, nil))
}

// TestProxyAuthEmailValidated: a Remote-Email that is not an address is ignored (the
// account is made, no email recorded), and an address another account holds is not taken.
func TestProxyAuthEmailValidated(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		emailOf := func(name string) *string {
			var email *string
			if err := e.store.DB().QueryRow(`SELECT email FROM users WHERE username = $1`, name).Scan(&email); err != nil {
				t.Fatal(err)
			}
			return email
		}
		for i, bad := range []string{"not an address", "a@b@c", "@example.org", "bob@", strings.Repeat("x", 250) + "@example.org"} {
			name := fmt.Sprintf("bad%d", i)
			resp := e.anonymous().request("GET", "/api/auth/me", nil, "Remote-User", name, "Remote-Email", bad)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%q: status %d", bad, resp.StatusCode)
			}
			if got := emailOf(name); got != nil {
				t.Errorf("%q recorded as %q", bad, *got)
			}
		}
		for _, name := range []string{"carol", "dave"} {
			resp := e.anonymous().request("GET", "/api/auth/me", nil, "Remote-User", name, "Remote-Email", "shared@example.org")
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d", name, resp.StatusCode)
			}
		}
		if got := emailOf("carol"); got == nil || *got != "shared@example.org" {
			t.Errorf("carol's email %v", got)
		}
		if got := emailOf("dave"); got != nil {
			t.Errorf("dave took carol's address: %q", *got)
		}
	}, withProxyAuth("127.0.0.1/32", true, nil))
}
