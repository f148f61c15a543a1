package server_test

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/internal/oidctest"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// oidcEnv is a DocuVault server signing in through a real OpenID provider on loopback.
func oidcEnv(t *testing.T, dialect string, tune func(*server.OIDC)) (*env, *oidctest.Provider) {
	t.Helper()
	p := oidctest.Start(t)
	e := newEnv(t, dialect, "local", func(o *server.Options) {
		o.OIDC = server.OIDC{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret, ButtonLabel: "Sign in with Testing IdP",
			AdminGroups: []string{"dv-admins"}, AllowedGroups: []string{"family", "dv-admins"}, AutoCreate: true}
		if tune != nil {
			tune(&o.OIDC)
		}
	})
	p.AllowRedirect(e.ts.URL + "/api/auth/oidc/callback")
	return e, p
}

// ssoStep may change a URL of the flow before the browser follows it.
type ssoStep func(u *url.URL)

// ssoLogin drives the whole redirect flow as a browser does (cookies kept, every redirect
// followed by hand) and returns the client and the status of the last answer: 302 to "/"
// when signed in.
func ssoLogin(t *testing.T, e *env, c *client, authorize, callback ssoStep) (int, string) {
	t.Helper()
	if c == nil {
		c = e.anonymous()
	}
	next := e.ts.URL + "/api/auth/oidc/login"
	for range 10 {
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		if authorize != nil && u.Path == "/authorize" {
			authorize(u)
		}
		if callback != nil && u.Path == "/api/auth/oidc/callback" {
			callback(u)
		}
		resp, err := c.hc.Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			return resp.StatusCode, string(body)
		}
		if loc == "/" && strings.HasPrefix(u.String(), e.ts.URL) {
			return http.StatusFound, ""
		}
		ref, _ := url.Parse(loc)
		next = u.ResolveReference(ref).String()
	}
	t.Fatal("too many redirects")
	return 0, ""
}

func me(t *testing.T, c *client) map[string]any {
	t.Helper()
	var out map[string]any
	c.call("GET", "/api/auth/me", nil, 200, &out)
	return out
}

// TestOIDCLoginFlow: the first login creates the user with the default quota; the session
// works with CSRF like a password login's; group membership at the provider grants and
// removes admin at each login; a rotated signing key still verifies; logout ends the
// session and names the provider's end-session URL; a replayed callback is refused.
func TestOIDCLoginFlow(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			e, p := oidcEnv(t, dialect, nil)
			e.createUser("root", store.RoleAdmin, 0) // alice is never the last admin
			p.AddUser(oidctest.User{Subject: "sub-alice", Username: "alice", Email: "alice@example.org", EmailVerified: true, Groups: []string{"family"}})
			p.LoginAs("sub-alice")

			c := e.anonymous()
			if code, body := ssoLogin(t, e, c, nil, nil); code != 302 {
				t.Fatalf("first login: %d %s", code, body)
			}
			if m := me(t, c); m["username"] != "alice" || m["role"] != "user" {
				t.Fatalf("me: %v", m)
			}
			u, _ := e.store.UserByUsername(context.Background(), "alice")
			if q, _ := e.store.QuotaOf(context.Background(), u.ID); q.LimitBytes != 100<<20 {
				t.Errorf("quota %d", q.LimitBytes)
			}
			if code := c.status("POST", "/api/topics", map[string]any{"name": "Garden"}); code != 403 {
				t.Errorf("POST without CSRF: %d", code)
			}
			var tok map[string]string
			c.call("GET", "/api/auth/csrf", nil, 200, &tok)
			c.csrf = tok["csrf_token"]
			c.call("POST", "/api/topics", map[string]any{"name": "Garden"}, 201)

			// Admin granted by the provider's groups, then removed.
			p.SetGroups("sub-alice", "family", "dv-admins")
			a := e.anonymous()
			if code, body := ssoLogin(t, e, a, nil, nil); code != 302 || me(t, a)["role"] != "admin" {
				t.Fatalf("login with the admin group: %d %s %v", code, body, me(t, a))
			}
			p.SetGroups("sub-alice", "family")
			// The key rotates between logins: the new key's ID token still verifies.
			newKey := p.RotateKey()
			b := e.anonymous()
			if code, body := ssoLogin(t, e, b, nil, nil); code != 302 || me(t, b)["role"] != "user" {
				t.Fatalf("login after the admin group was removed and the key rotated: %d %s", code, body)
			}
			if users, _ := e.store.ListUsers(context.Background()); len(users) != 2 {
				t.Errorf("%d users, want root and alice only", len(users))
			}

			// A role change ends the sessions made before it.
			if code := c.status("GET", "/api/auth/me", nil); code != 401 {
				t.Errorf("session from before the role changes: %d, want 401", code)
			}
			// Logout ends the session and names the provider's end-session endpoint.
			c = b
			c.call("GET", "/api/auth/csrf", nil, 200, &tok)
			c.csrf = tok["csrf_token"]
			var out map[string]string
			c.call("POST", "/api/auth/logout", nil, 200, &out)
			if !strings.HasPrefix(out["end_session_url"], p.Issuer+"/") || !strings.Contains(out["end_session_url"], "id_token_hint=") {
				t.Errorf("end_session_url %q", out["end_session_url"])
			}
			if code := c.status("GET", "/api/auth/me", nil); code != 401 {
				t.Errorf("after logout: %d", code)
			}
			// That session's ID token was signed by the rotated key.
			eu, _ := url.Parse(out["end_session_url"])
			head, _, _ := strings.Cut(eu.Query().Get("id_token_hint"), ".")
			hb, _ := base64.RawURLEncoding.DecodeString(head)
			if !strings.Contains(string(hb), `"kid":"`+newKey+`"`) {
				t.Errorf("ID token after rotation signed by %s, want %s", hb, newKey)
			}

			// A callback URL replayed (same code and state) is refused: the state cookie is gone.
			var seen string
			d := e.anonymous()
			if code, _ := ssoLogin(t, e, d, nil, func(u *url.URL) { seen = u.String() }); code != 302 {
				t.Fatal("login for the replay")
			}
			resp, err := e.anonymous().hc.Get(seen)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("replayed callback: %d, want 400", resp.StatusCode)
			}
		})
	}
}

// TestOIDCRefusals: a tampered state, nonce or ID token, a user outside allowed_groups, an
// unverified email that would match an existing account, and a username that is taken are
// all refused, and no session is made.
func TestOIDCRefusals(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { oidcRefusals(t, dialect) })
	}
}

func oidcRefusals(t *testing.T, dialect string) {
	e, p := oidcEnv(t, dialect, nil)
	p.AddUser(oidctest.User{Subject: "sub-alice", Username: "alice", Email: "alice@example.org", EmailVerified: true, Groups: []string{"family"}})
	p.LoginAs("sub-alice")
	check := func(name string, want int, authorize, callback ssoStep) {
		t.Helper()
		c := e.anonymous()
		if code, body := ssoLogin(t, e, c, authorize, callback); code != want {
			t.Errorf("%s: %d %s, want %d", name, code, body, want)
		}
		if code := c.status("GET", "/api/auth/me", nil); code != 401 {
			t.Errorf("%s: signed in (%d)", name, code)
		}
	}
	setQuery := func(key, val string) ssoStep {
		return func(u *url.URL) { q := u.Query(); q.Set(key, val); u.RawQuery = q.Encode() }
	}
	check("tampered state", 400, nil, setQuery("state", "forged"))
	check("tampered nonce", 401, setQuery("nonce", "forged-nonce"), nil)
	p.TamperNextIDToken()
	check("tampered ID token", 401, nil, nil)
	check("no PKCE verifier match", 401, setQuery("code_challenge", "Zm9yZ2VkLWNoYWxsZW5nZS0wMTIzNDU2Nzg5MDEyMzQ1Njc4OQ"), nil)

	// The user leaves the allowed groups: no more logins.
	c := e.anonymous()
	if code, body := ssoLogin(t, e, c, nil, nil); code != 302 {
		t.Fatalf("allowed login: %d %s", code, body)
	}
	p.SetGroups("sub-alice", "former-members")
	check("outside allowed_groups", 403, nil, nil)

	// A local account with the same name is never taken over by a bare username.
	e.createUser("carol", store.RoleUser, 1<<20)
	p.AddUser(oidctest.User{Subject: "sub-carol", Username: "carol", Email: "carol@example.org", EmailVerified: false, Groups: []string{"family"}})
	p.LoginAs("sub-carol")
	carol, _ := e.store.UserByUsername(context.Background(), "carol")
	if err := e.store.SetEmail(context.Background(), carol.ID, "Carol@example.org"); err != nil {
		t.Fatal(err)
	}
	check("taken username, unverified email", 409, nil, nil)
	// With the email verified at the provider, the account is linked by it.
	p.AddUser(oidctest.User{Subject: "sub-carol", Username: "carol-sso", Email: "carol@example.org", EmailVerified: true, Groups: []string{"family"}})
	c = e.anonymous()
	if code, body := ssoLogin(t, e, c, nil, nil); code != 302 || me(t, c)["username"] != "carol" {
		t.Fatalf("link by verified email: %d %s", code, body)
	}
	if code := e.anonymous().status("GET", "/api/auth/oidc/callback?state=x&code=y", nil); code != 400 {
		t.Errorf("callback without a state cookie: %d", code)
	}
}

// TestOIDCDisablesPasswordLogin: with disable_password_login only the break-glass admin
// signs in with a password; the login page learns it from /api/auth/config. A user with
// local two-factor signs in through the provider without being asked for a code.
func TestOIDCDisablesPasswordLogin(t *testing.T) {
	e, p := oidcEnv(t, "sqlite", func(o *server.OIDC) { o.DisablePasswordLogin, o.BreakGlassAdmin = true, "root" })
	e.createUser("root", store.RoleAdmin, 0)
	e.createUser("bob", store.RoleUser, 1<<20)
	if code := e.anonymous().status("POST", "/api/auth/login", map[string]string{"username": "bob", "password": testPassword}); code != 403 {
		t.Errorf("password login of a user: %d, want 403", code)
	}
	e.login("root", testPassword) // fails the test unless 200
	var cfg map[string]any
	e.anonymous().call("GET", "/api/auth/config", nil, 200, &cfg)
	if cfg["password_login"] != false || cfg["oidc"].(map[string]any)["label"] != "Sign in with Testing IdP" {
		t.Errorf("auth config %v", cfg)
	}
	bob, _ := e.store.UserByUsername(context.Background(), "bob")
	if err := e.store.LinkIdentity(context.Background(), bob.ID, p.Issuer, "sub-bob"); err != nil {
		t.Fatal(err)
	}
	enableLocalTOTP(t, e, bob.ID)
	p.AddUser(oidctest.User{Subject: "sub-bob", Username: "robert", Groups: []string{"family"}})
	p.LoginAs("sub-bob")
	c := e.anonymous()
	if code, body := ssoLogin(t, e, c, nil, nil); code != 302 || me(t, c)["username"] != "bob" {
		t.Fatalf("admin-linked login with local 2FA on: %d %s", code, body)
	}
	if code := e.anonymous().status("POST", "/api/auth/login", map[string]string{"username": "bob", "password": testPassword}); code != 403 {
		t.Errorf("password login still off: %d", code)
	}
}

// enableLocalTOTP turns local two-factor on for a user in the store.
func enableLocalTOTP(t *testing.T, e *env, userID string) {
	t.Helper()
	ctx := context.Background()
	if err := e.store.SetTOTPSecret(ctx, userID, "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.EnableTOTP(ctx, userID, 1, nil); err != nil {
		t.Fatal(err)
	}
	if u, _ := e.store.UserByID(ctx, userID); !u.TOTPEnabled {
		t.Fatal("two-factor not on")
	}
}

// TestOIDCProviderDown: with the provider unreachable, the login answers 503 at once, and
// password logins are not affected.
func TestOIDCProviderDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + l.Addr().String()
	l.Close() // nothing listens there any more
	e := newEnv(t, "sqlite", "local", func(o *server.Options) {
		o.OIDC = server.OIDC{Issuer: issuer, ClientID: "docuvault", ClientSecret: "secret", AutoCreate: true}
	})
	if code := e.anonymous().status("GET", "/api/auth/oidc/login", nil); code != 503 {
		t.Errorf("login with the provider down: %d, want 503", code)
	}
	e.createUser("dave", store.RoleUser, 1<<20)
	e.login("dave", testPassword)
	off := newEnv(t, "sqlite", "local")
	if code := off.anonymous().status("GET", "/api/auth/oidc/login", nil); code != 404 {
		t.Errorf("login without single sign-on configured: %d, want 404", code)
	}
}

// TestOIDCClaimsFromUserinfo: a provider that keeps the profile, email and groups out of the
// ID token (Authelia's default) still signs people in: the userinfo endpoint supplies them
// for the same subject, and the admin group applies.
func TestOIDCClaimsFromUserinfo(t *testing.T) {
	e, p := oidcEnv(t, "sqlite", nil)
	e.createUser("root", store.RoleAdmin, 0)
	p.ClaimsInUserinfoOnly()
	p.AddUser(oidctest.User{Subject: "sub-erin", Username: "erin", Email: "erin@example.org", EmailVerified: true, Groups: []string{"dv-admins"}})
	p.LoginAs("sub-erin")
	c := e.anonymous()
	if code, body := ssoLogin(t, e, c, nil, nil); code != 302 {
		t.Fatalf("login: %d %s", code, body)
	}
	if m := me(t, c); m["username"] != "erin" || m["role"] != "admin" {
		t.Fatalf("me: %v", m)
	}
}
