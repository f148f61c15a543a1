package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/docuvault/docuvault/internal/oidctest"
)

// TestOIDCLoginInBrowser: in Chromium, the login page shows the provider's button; a click
// runs the whole redirect flow and lands signed in; signing out ends the session here and
// sends the browser to the provider's end-session endpoint.
func TestOIDCLoginInBrowser(t *testing.T) {
	e, p := oidcEnv(t, "sqlite", nil)
	p.AddUser(oidctest.User{Subject: "sub-alice", Username: "alice", Email: "alice@example.org", EmailVerified: true, Groups: []string{"family"}})
	p.LoginAs("sub-alice")
	u := &ui{t: t, ctx: browser(t), base: e.ts.URL, shot: "oidc"}
	u.run("open login", chromedp.Navigate(u.base+"/#/login"), waitText("#login-sso", "Sign in with Testing IdP"))
	u.run("sign in with the provider", chromedp.Click(chromedp.CSS("#login-sso")), chromedp.WaitVisible(chromedp.CSS("#logout")))
	if got := eval[string](u, "who", `fetch('/api/auth/me').then(r => r.json()).then(j => j.username + '/' + j.role)`); got != "alice/user" {
		t.Fatalf("signed in as %q", got)
	}
	u.run("sign out", chromedp.Click(chromedp.CSS("#logout")), waitTrue(`location.href.startsWith(`+jsString(p.Issuer+"/end_session")+`)`))
	u.run("back to the app", chromedp.Navigate(u.base+"/"), chromedp.WaitVisible(chromedp.CSS("#login-username")))
	if got := eval[int](u, "session gone", `fetch('/api/auth/me').then(r => r.status)`); got != 401 {
		t.Errorf("after sign-out: %d", got)
	}
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
