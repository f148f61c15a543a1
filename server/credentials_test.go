package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// TestTrustedProxies: X-Forwarded-For and X-Real-IP name the client only when the peer is
// a configured proxy; otherwise the peer address counts (for the audit log and the throttle).
func TestTrustedProxies(t *testing.T) {
	// loggedIP makes a failed login with the headers and returns the address the audit saw.
	loggedIP := func(t *testing.T, e *env, headers ...string) string {
		t.Helper()
		resp := e.anonymous().request("POST", "/api/auth/login", map[string]string{"username": "nobody", "password": "x"}, headers...)
		resp.Body.Close()
		list, _, err := e.store.ListAudit(context.Background(), nil, 1)
		if err != nil || len(list) != 1 || list[0].Action != "login.failure" {
			t.Fatalf("audit %v %v", list, err)
		}
		return list[0].IP
	}
	cases := []struct {
		name    string
		trusted []string
		headers []string
		want    string
	}{
		{"no proxies: XFF ignored", nil, []string{"X-Forwarded-For", "203.0.113.9"}, "127.0.0.1"},
		{"no proxies: X-Real-IP ignored", nil, []string{"X-Real-IP", "203.0.113.9"}, "127.0.0.1"},
		{"peer not a proxy", []string{"10.0.0.0/8"}, []string{"X-Forwarded-For", "203.0.113.9"}, "127.0.0.1"},
		{"loopback is not trusted by default", []string{"192.0.2.1"}, []string{"X-Real-IP", "203.0.113.9"}, "127.0.0.1"},
		{"trusted peer: XFF", []string{"127.0.0.0/8"}, []string{"X-Forwarded-For", "203.0.113.9"}, "203.0.113.9"},
		{"trusted peer: X-Real-IP", []string{"127.0.0.1"}, []string{"X-Real-IP", "203.0.113.9"}, "203.0.113.9"},
		{"nearest untrusted hop wins", []string{"127.0.0.0/8", "10.0.0.0/8"}, []string{"X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"no header", []string{"127.0.0.0/8"}, nil, "127.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "sqlite", "local", func(o *server.Options) { o.TrustedProxies = tc.trusted })
			if got := loggedIP(t, e, tc.headers...); got != tc.want {
				t.Fatalf("client address %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := server.ParseTrustedProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Error("a bad CIDR was accepted")
	}
	base := newEnv(t, "sqlite", "local")
	if _, err := server.New(server.Options{Store: base.store, Blobs: base.blobs, TrustedProxies: []string{"proxy.local"}}); err == nil {
		t.Error("server started with a host name as trusted proxy")
	}

	// The throttle follows: spoofed headers from an untrusted peer do not give fresh
	// addresses, while a trusted proxy's clients are counted apart. (Distinct subtest
	// names: a "#" in a SQLite path would cut it short.)
	t.Run("untrusted peer", func(t *testing.T) {
		forEachDialect(t, func(t *testing.T, e *env) {
			e.createUser("alice", store.RoleUser, 1000)
			for range 5 {
				e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "wrong"}, 401)
			}
			resp := e.anonymous().request("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, "X-Forwarded-For", "203.0.113.77")
			resp.Body.Close()
			if resp.StatusCode != 429 {
				t.Fatalf("spoofed X-Forwarded-For escaped the throttle: %d", resp.StatusCode)
			}
		})
	})
	t.Run("trusted proxy", func(t *testing.T) {
		forEachDialect(t, func(t *testing.T, e *env) {
			e.createUser("alice", store.RoleUser, 1000)
			for range 5 {
				e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "wrong"}, 401)
			}
			resp := e.anonymous().request("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, "X-Forwarded-For", "203.0.113.77")
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("another client behind the trusted proxy: %d", resp.StatusCode)
			}
		}, trustLoopback)
	})
}

// tokenOf makes an API token for c and returns a script client using it.
func tokenOf(e *env, c *client) *client {
	var created struct{ Token string }
	c.call("POST", "/api/auth/me/tokens", map[string]string{"name": "script"}, 201, &created)
	script := e.anonymous()
	script.bearer = created.Token
	script.call("GET", "/api/auth/me", nil, 200)
	return script
}

// TestPasswordChangeRevokesTokens: changing one's password ends the other sessions and
// revokes every API token; only the session that changed it continues.
func TestPasswordChangeRevokesTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		c := e.login("alice", testPassword)
		other := e.login("alice", testPassword)
		script := tokenOf(e, c)
		resp := c.request("POST", "/api/auth/me/password", map[string]string{"current_password": testPassword, "new_password": "a brand new password"})
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("change: %d", resp.StatusCode)
		}
		c.csrf = resp.Header.Get("X-CSRF-Token")
		c.call("GET", "/api/auth/me", nil, 200)
		other.call("GET", "/api/auth/me", nil, 401)
		script.call("GET", "/api/auth/me", nil, 401)
		if list := c.call("GET", "/api/auth/me/tokens", nil, 200); string(list) != "[]\n" && string(list) != "[]" {
			t.Fatalf("tokens left: %s", list)
		}
		// A token made with the new password works.
		tokenOf(e, c)
	})
}

// TestAdminResetRevokesTokens: an admin's reset ends all the user's sessions and tokens.
func TestAdminResetRevokesTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		alice := e.member("alice")
		script := tokenOf(e, alice)
		var out struct {
			TemporaryPassword string `json:"temporary_password"`
		}
		admin.call("POST", "/api/admin/users/"+alice.user.ID+"/reset-password", nil, 200, &out)
		alice.call("GET", "/api/auth/me", nil, 401)
		script.call("GET", "/api/auth/me", nil, 401)
		if toks, err := e.store.ListTokens(context.Background(), alice.user.ID); err != nil || len(toks) != 0 {
			t.Fatalf("tokens after reset: %v %v", toks, err)
		}
		e.login("alice", out.TemporaryPassword)
	})
}

// TestDeactivatedSameAnswer: a deactivated account answers its right and wrong passwords
// alike, as an unknown user does, so the password cannot be confirmed through it.
func TestDeactivatedSameAnswer(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		alice := e.member("alice")
		admin.call("PATCH", "/api/admin/users/"+alice.user.ID, map[string]bool{"is_active": false}, 200)
		right := e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 401)
		wrong := e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "not her password"}, 401)
		unknown := e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "nobody", "password": testPassword}, 401)
		if string(right) != string(wrong) || string(right) != string(unknown) || detail(t, right) != "invalid credentials" {
			t.Fatalf("right %s, wrong %s, unknown %s", right, wrong, unknown)
		}
	})
}

// TestForcedChangeRefusesSamePassword: the forced change (and any change) refuses the
// current password, here the temporary one the admin saw, as the new one.
func TestForcedChangeRefusesSamePassword(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		var created struct {
			TemporaryPassword string `json:"temporary_password"`
		}
		admin.call("POST", "/api/admin/users", map[string]string{"username": "bob"}, 201, &created)
		bob := e.login("bob", created.TemporaryPassword)
		b := bob.call("POST", "/api/auth/me/password", map[string]string{"current_password": created.TemporaryPassword, "new_password": created.TemporaryPassword}, 422)
		if d, _ := detail(t, b).(string); !strings.Contains(d, "differ") {
			t.Fatalf("detail %s", b)
		}
		bob.call("GET", "/api/documents", nil, 403) // still must change
		resp := bob.request("POST", "/api/auth/me/password", map[string]string{"current_password": created.TemporaryPassword, "new_password": "bob's very own password"})
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("a different password: %d", resp.StatusCode)
		}
	})
}

// TestPasswordChangeThrottled: the current-password check of a password change is counted
// like a login, so a stolen session cannot guess the password at full speed.
func TestPasswordChangeThrottled(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		for range 5 {
			c.call("POST", "/api/auth/me/password", map[string]string{"current_password": "a wrong guess!", "new_password": "a brand new password"}, 403)
		}
		resp := c.request("POST", "/api/auth/me/password", map[string]string{"current_password": testPassword, "new_password": "a brand new password"})
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("sixth check: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		// The other password re-checks (turning 2FA off, new backup codes) share the budget:
		// they cannot become an unthrottled guessing route either.
		for _, path := range []string{"/api/auth/me/totp/disable", "/api/auth/me/backup-codes"} {
			resp := c.request("POST", path, map[string]string{"password": testPassword})
			resp.Body.Close()
			if resp.StatusCode != 429 {
				t.Fatalf("%s after 5 wrong guesses: %d, want 429", path, resp.StatusCode)
			}
		}
	})
}

// TestTwoFactorPasswordChecksThrottled: wrong passwords on the 2FA routes count too, and the
// sixth check is refused even with the right password.
func TestTwoFactorPasswordChecksThrottled(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("bob")
		for i := range 5 {
			path := []string{"/api/auth/me/totp/disable", "/api/auth/me/backup-codes"}[i%2]
			c.call("POST", path, map[string]string{"password": "a wrong guess!"}, 403)
		}
		resp := c.request("POST", "/api/auth/me/totp/disable", map[string]string{"password": testPassword})
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("sixth check: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}
