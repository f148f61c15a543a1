package server_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/docuvault/docuvault/internal/imaptest"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// TestBrowserMailAccount: a user adds a mail account on the account page in a real
// Chromium; a wrong password shows as the account's error after a poll and in the test
// button's answer, and the password is nowhere in the page.
func TestBrowserMailAccount(t *testing.T) {
	ctx := browser(t)
	srv := imaptest.New(t)
	srv.Mailbox(t, "alice@example.org", "the-right-mail-password")
	e := newEnv(t, "sqlite", "local", withMail(srv, &testenv.SyncBuffer{}))
	e.createUser("alice", store.RoleUser, 10<<20)
	u := &ui{t: t, ctx: ctx, base: e.ts.URL, shot: "mail"}
	u.login("alice", testPassword, "")
	const wrong = "a-wrong-mail-password"
	u.run("account page", chromedp.Navigate(u.base+"/#/account"), chromedp.WaitVisible(chromedp.CSS("#mail-accounts")),
		chromedp.Click(chromedp.CSS("#mail-accounts summary")), chromedp.WaitVisible(chromedp.CSS("#mail-host")),
		chromedp.SetValue(chromedp.CSS("#mail-host"), srv.Host), chromedp.SetValue(chromedp.CSS("#mail-port"), strconv.Itoa(srv.Port)),
		chromedp.SetValue(chromedp.CSS("#mail-user"), "alice@example.org"), chromedp.SetValue(chromedp.CSS("#mail-password"), wrong),
		chromedp.Click(chromedp.CSS("#mail-save")), waitText("#mail-accounts tbody", "alice@example.org"))
	if err := e.srv.RunJob(context.Background(), server.JobsConfig{}, "poll-mail"); err != nil {
		t.Fatal(err)
	}
	u.run("error shown", chromedp.Navigate(u.base+"/#/documents"), chromedp.Navigate(u.base+"/#/account"),
		waitText("#mail-accounts .mail-error", "login failed"))
	u.run("test button", chromedp.Click(chromedp.CSS("#mail-accounts .mail-test")), waitText("#mail-accounts .mail-test-result", "login failed"))
	u.screenshot("mail-account-error")
	html := eval[string](u, "page text", `document.documentElement.outerHTML + [...document.querySelectorAll('input')].map(i => i.value).join(' ')`)
	if strings.Contains(html, wrong) {
		t.Fatal("the password is still in the page")
	}
}
