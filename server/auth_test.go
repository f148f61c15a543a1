package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

func TestLogin(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		anon := e.anonymous()
		b := anon.call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "wrong password!"}, 401)
		if d := detail(t, b); d != "invalid credentials" {
			t.Errorf("wrong password detail %v", d)
		}
		b = anon.call("POST", "/api/auth/login", map[string]string{"username": "nobody", "password": testPassword}, 401)
		if d := detail(t, b); d != "invalid credentials" {
			t.Errorf("unknown user detail %v", d)
		}
		anon.call("POST", "/api/auth/login", `{"username":"alice","password":"x","extra":1}`, 400)
		anon.call("POST", "/api/auth/login", `{not json`, 400)
		anon.call("GET", "/api/auth/me", nil, 401)

		c := e.login("alice", testPassword)
		var me map[string]any
		c.call("GET", "/api/auth/me", nil, 200, &me)
		for _, k := range []string{"id", "username", "role", "is_active", "password_must_change", "totp_enabled", "ai_provider", "ai_model", "created_at"} {
			if _, ok := me[k]; !ok {
				t.Errorf("user object lacks %q: %v", k, me)
			}
		}
		if me["username"] != "alice" || me["role"] != "user" {
			t.Errorf("me = %v", me)
		}
		c.call("POST", "/api/auth/logout", nil, 204)
		c.call("GET", "/api/auth/me", nil, 401)
	})
}

func TestPasswordHashesAreArgon2id(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		var created struct {
			User              map[string]any `json:"user"`
			TemporaryPassword string         `json:"temporary_password"`
		}
		admin.call("POST", "/api/admin/users", map[string]string{"username": "bob"}, 201, &created)
		u, err := e.store.UserByUsername(context.Background(), "bob")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=") || strings.Contains(u.PasswordHash, created.TemporaryPassword) {
			t.Fatalf("hash %q is not an argon2id string", u.PasswordHash)
		}
		if ok, err := server.CheckPassword(u.PasswordHash, created.TemporaryPassword); !ok || err != nil {
			t.Fatalf("temporary password does not verify: %v", err)
		}
		if len(created.TemporaryPassword) < 12 || !u.PasswordMustChange {
			t.Fatalf("temporary password %q, must change %v", created.TemporaryPassword, u.PasswordMustChange)
		}
	})
}

func TestCSRF(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		good := c.csrf
		c.csrf = ""
		if b := c.call("POST", "/api/topics", map[string]string{"name": "A"}, 403); detail(t, b) != "CSRF token missing or invalid" {
			t.Errorf("missing token: %s", b)
		}
		c.csrf = "wrong"
		c.call("POST", "/api/topics", map[string]string{"name": "A"}, 403)
		c.csrf = good
		c.call("POST", "/api/topics", map[string]string{"name": "A"}, 201)

		var tok struct {
			CSRFToken string `json:"csrf_token"`
		}
		c.call("GET", "/api/auth/csrf", nil, 200, &tok)
		if tok.CSRFToken != good {
			t.Errorf("GET /api/auth/csrf returned another token than the login did")
		}
		// A cross-site browser request is refused even with the token.
		resp := c.request("POST", "/api/topics", map[string]string{"name": "B"}, "Sec-Fetch-Site", "cross-site")
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("cross-site POST: %d", resp.StatusCode)
		}
		// Bearer requests need no CSRF header.
		var created struct{ Token string }
		c.call("POST", "/api/auth/me/tokens", map[string]string{"name": "script"}, 201, &created)
		script := e.anonymous()
		script.bearer = created.Token
		script.call("POST", "/api/topics", map[string]string{"name": "C"}, 201)
	})
}

// TestSessionFixation plants a session token in the victim's cookie jar (anonymous callers
// get no session of their own to plant): login must not adopt it.
func TestSessionFixation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		c := e.anonymous()
		u, _ := http.NewRequest("GET", e.ts.URL, nil)
		planted := []*http.Cookie{{Name: "docuvault_session", Value: "planted-by-the-attacker-0123456789abcdef"}}
		c.hc.Jar.SetCookies(u.URL, planted)
		c.call("GET", "/api/auth/csrf", nil, 200)
		c.call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 200)
		after := c.hc.Jar.Cookies(u.URL)
		if len(after) != 1 || after[0].Value == planted[0].Value {
			t.Fatalf("session token not renewed at login: %v", after)
		}
		attacker := e.anonymous()
		attacker.hc.Jar.SetCookies(u.URL, planted)
		attacker.call("GET", "/api/auth/me", nil, 401)
	})
}

func TestPasswordChange(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		c := e.login("alice", testPassword)
		other := e.login("alice", testPassword)
		c.call("POST", "/api/auth/me/password", map[string]string{"current_password": "nope nope nope", "new_password": "new long password"}, 403)
		c.call("POST", "/api/auth/me/password", map[string]string{"current_password": testPassword, "new_password": "short"}, 422)
		resp := c.request("POST", "/api/auth/me/password", map[string]string{"current_password": testPassword, "new_password": "new long password"})
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("change: %d", resp.StatusCode)
		}
		c.csrf = resp.Header.Get("X-CSRF-Token")
		c.call("GET", "/api/auth/me", nil, 200)     // this session continues
		other.call("GET", "/api/auth/me", nil, 401) // the other one ended
		e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 401)
		e.login("alice", "new long password")
	})
}

func TestPasswordMustChangeGate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		var created struct {
			TemporaryPassword string `json:"temporary_password"`
		}
		admin.call("POST", "/api/admin/users", map[string]string{"username": "bob"}, 201, &created)
		bob := e.login("bob", created.TemporaryPassword)
		var me map[string]any
		bob.call("GET", "/api/auth/me", nil, 200, &me)
		if me["password_must_change"] != true {
			t.Fatalf("me = %v", me)
		}
		for _, r := range [][2]string{{"GET", "/api/documents"}, {"GET", "/api/auth/me/quota"}, {"GET", "/api/topics"}, {"POST", "/api/auth/me/tokens"}} {
			b := bob.call(r[0], r[1], map[string]string{}, 403)
			if detail(t, b) != "password_change_required" {
				t.Errorf("%s %s: %s", r[0], r[1], b)
			}
		}
		resp := bob.request("POST", "/api/auth/me/password", map[string]string{"current_password": created.TemporaryPassword, "new_password": "bob's own long password"})
		resp.Body.Close()
		bob.csrf = resp.Header.Get("X-CSRF-Token")
		bob.call("GET", "/api/documents", nil, 200)
		bob.call("POST", "/api/auth/logout", nil, 204)
	})
}

// totpLogin enables 2FA for c and returns the secret and backup codes.
func enableTOTP(t *testing.T, e *env, c *client) (string, []string) {
	var setup struct {
		Secret     string `json:"secret"`
		OtpauthURL string `json:"otpauth_url"`
		QRPNG      string `json:"qr_png"`
	}
	c.call("POST", "/api/auth/me/totp/setup", nil, 200, &setup)
	if !strings.HasPrefix(setup.OtpauthURL, "otpauth://totp/") || !strings.HasPrefix(setup.QRPNG, "data:image/png;base64,") {
		t.Fatalf("setup = %+v", setup)
	}
	c.call("POST", "/api/auth/me/totp/enable", map[string]string{"code": "000000"}, 422)
	code, _ := totp.GenerateCode(setup.Secret, e.clock.Now())
	var enabled struct {
		BackupCodes []string `json:"backup_codes"`
	}
	c.call("POST", "/api/auth/me/totp/enable", map[string]string{"code": code}, 200, &enabled)
	if len(enabled.BackupCodes) != 10 {
		t.Fatalf("backup codes: %v", enabled.BackupCodes)
	}
	c.call("POST", "/api/auth/me/totp/setup", nil, 409)
	return setup.Secret, enabled.BackupCodes
}

func TestTOTP(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		c := e.login("alice", testPassword)
		secret, backups := enableTOTP(t, e, c)
		login := func(otp string) int {
			return e.anonymous().status("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword, "otp": otp})
		}
		b := e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 401)
		if detail(t, b) != "otp_required" {
			t.Fatalf("no otp: %s", b)
		}
		if got := login("123456"); got != 401 {
			t.Fatalf("wrong otp: %d", got)
		}
		// The code used to enable is spent; the next step's code works once.
		e.clock.Add(30 * time.Second)
		code, _ := totp.GenerateCode(secret, e.clock.Now())
		if got := login(code); got != 200 {
			t.Fatalf("valid otp: %d", got)
		}
		if got := login(code); got != 401 {
			t.Fatalf("replayed otp: %d", got)
		}
		// ±1 step of skew.
		e.clock.Add(60 * time.Second)
		late, _ := totp.GenerateCode(secret, e.clock.Now().Add(-30*time.Second))
		if got := login(late); got != 200 {
			t.Fatalf("code of the previous step: %d", got)
		}
		// A backup code works once, with or without its dash.
		if got := login(strings.ToUpper(strings.ReplaceAll(backups[0], "-", ""))); got != 200 {
			t.Fatalf("backup code: %d", got)
		}
		if got := login(backups[0]); got != 401 {
			t.Fatalf("reused backup code: %d", got)
		}
		// Regenerating needs the password and voids the old codes.
		c.call("POST", "/api/auth/me/backup-codes", map[string]string{"password": "wrong password!!"}, 403)
		var fresh struct {
			BackupCodes []string `json:"backup_codes"`
		}
		c.call("POST", "/api/auth/me/backup-codes", map[string]string{"password": testPassword}, 200, &fresh)
		if got := login(backups[1]); got != 401 {
			t.Fatalf("old backup code after regeneration: %d", got)
		}
		if got := login(fresh.BackupCodes[0]); got != 200 {
			t.Fatalf("new backup code: %d", got)
		}
		// Disabling needs the password.
		c.call("POST", "/api/auth/me/totp/disable", map[string]string{"password": "wrong password!!"}, 403)
		c.call("POST", "/api/auth/me/totp/disable", map[string]string{"password": testPassword}, 204)
		if got := login(""); got != 200 {
			t.Fatalf("login after disabling 2FA: %d", got)
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		anon := e.anonymous()
		for i := 0; i < 5; i++ {
			anon.call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "bad guess " + string(rune('a'+i))}, 401)
		}
		resp := anon.request("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword})
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("6th attempt: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		e.clock.Add(15*time.Minute + time.Second)
		e.login("alice", testPassword) // the window passed
		// Success reset the username counter.
		for i := 0; i < 4; i++ {
			anon.call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "bad guess again"}, 401)
		}
		e.login("alice", testPassword)

		// 20 failures from one address, spread over usernames, block that address (in a
		// fresh window: the address also counted the four failures above).
		e.clock.Add(15*time.Minute + time.Second)
		for i := 0; i < 20; i++ {
			anon.call("POST", "/api/auth/login", map[string]string{"username": "ghost" + string(rune('a'+i)), "password": "whatever pass"}, 401)
		}
		anon.call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 429)
	})
}

func TestAPITokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		c.call("POST", "/api/auth/me/tokens", map[string]string{"name": ""}, 422)
		var created struct {
			ID, Name, Token string
		}
		c.call("POST", "/api/auth/me/tokens", map[string]any{"name": "backup script", "expires_in_days": 1}, 201, &created)
		if !strings.HasPrefix(created.Token, server.TokenPrefix) || len(created.Token) < 40 {
			t.Fatalf("token %q", created.Token)
		}
		list := c.call("GET", "/api/auth/me/tokens", nil, 200)
		if strings.Contains(string(list), created.Token) || !strings.Contains(string(list), "backup script") {
			t.Fatalf("token list %s", list)
		}
		script := e.anonymous()
		script.bearer = created.Token
		script.call("GET", "/api/auth/me/quota", nil, 200)
		var tokens []map[string]any
		c.call("GET", "/api/auth/me/tokens", nil, 200, &tokens)
		if tokens[0]["last_used_at"] == nil {
			t.Errorf("last_used_at not set after use")
		}
		// Expiry.
		e.clock.Add(25 * time.Hour)
		script.call("GET", "/api/auth/me/quota", nil, 401)
		// Revocation.
		c.call("POST", "/api/auth/me/tokens", map[string]any{"name": "second"}, 201, &created)
		script.bearer = created.Token
		script.call("GET", "/api/auth/me/quota", nil, 200)
		c.call("DELETE", "/api/auth/me/tokens/"+created.ID, nil, 204)
		c.call("DELETE", "/api/auth/me/tokens/"+created.ID, nil, 404)
		script.call("GET", "/api/auth/me/quota", nil, 401)
		script.bearer = "dv_not-a-token"
		script.call("GET", "/api/auth/me/quota", nil, 401)
	})
}

func TestDeactivationEndsSessionsAndTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		alice := e.member("alice")
		var created struct{ Token string }
		alice.call("POST", "/api/auth/me/tokens", map[string]string{"name": "s"}, 201, &created)
		script := e.anonymous()
		script.bearer = created.Token
		script.call("GET", "/api/auth/me", nil, 200)

		admin.call("PATCH", "/api/admin/users/"+alice.user.ID, map[string]bool{"is_active": false}, 200)
		alice.call("GET", "/api/auth/me", nil, 401)
		script.call("GET", "/api/auth/me", nil, 401)
		b := e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 401)
		if detail(t, b) != "invalid credentials" { // the same answer as a wrong password
			t.Errorf("deactivated login: %s", b)
		}
		// Reactivation does not bring the revoked token back.
		admin.call("PATCH", "/api/admin/users/"+alice.user.ID, map[string]bool{"is_active": true}, 200)
		script.call("GET", "/api/auth/me", nil, 401)
		e.login("alice", testPassword)
	})
}

func TestAISettings(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		var s map[string]any
		c.call("GET", "/api/auth/me/settings", nil, 200, &s)
		if s["ai_provider"] != nil || s["ai_model"] != nil {
			t.Fatalf("defaults %v", s)
		}
		c.call("PUT", "/api/auth/me/settings", map[string]any{"ai_provider": "ollama", "ai_model": nil}, 422) // not enabled here
		c.call("PUT", "/api/auth/me/settings", map[string]any{"ai_provider": "bogus"}, 422)
		c.call("PUT", "/api/auth/me/settings", map[string]any{"ai_provider": "openai", "ai_model": "gpt-4o"}, 200, &s)
		if s["ai_provider"] != "openai" || s["ai_model"] != "gpt-4o" {
			t.Fatalf("after PUT %v", s)
		}
		c.call("GET", "/api/auth/me/settings", nil, 200, &s)
		if s["ai_provider"] != "openai" {
			t.Fatalf("not kept: %v", s)
		}
		c.call("PUT", "/api/auth/me/settings", map[string]any{"ai_provider": nil, "ai_model": nil}, 200, &s)
		if s["ai_provider"] != nil {
			t.Fatalf("reset to default: %v", s)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, "sqlite", "local")
	for _, path := range []string{"/healthz", "/api/auth/me", "/api/nope"} {
		resp := e.anonymous().request("GET", path, nil)
		resp.Body.Close()
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
}

func TestSettingsEndpointRemoved(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		c.call("GET", "/api/settings", nil, 404)
	})
}
