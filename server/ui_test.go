package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/docuvault/docuvault/classify"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// browser starts a headless Chromium for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.Chromium(t)), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// ui drives one browser through the app.
type ui struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot string // screenshot prefix
}

func (u *ui) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	if err := chromedp.Do(u.ctx, actions...); err != nil {
		u.fail(what, err)
	}
}

func (u *ui) fail(what string, err error) {
	u.t.Helper()
	u.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
	body, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	u.t.Fatalf("%s: %v\npage text: %s", what, err, body)
}

// eval runs JavaScript in the page and decodes its (awaited) result.
func eval[T any](u *ui, what, js string) T {
	u.t.Helper()
	v, err := chromedp.Run(u.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		u.fail(what, err)
	}
	return v
}

// screenshot saves the page under testdata-artifacts (ignored by git) to be looked at.
func (u *ui) screenshot(name string) {
	png, err := chromedp.Run(u.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return
	}
	dir := filepath.Join("..", "testdata-artifacts", "ui")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, u.shot+"-"+name+".png"), png, 0o644)
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		deadline := time.Now().Add(20 * time.Second)
		var got string
		var err error
		for time.Now().Before(deadline) {
			if got, err = chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).innerText||""`, sel))(ctx, t); err != nil {
				return err
			}
			if strings.Contains(got, want) {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("%s never showed %q (last: %q)", sel, want, got)
	})
}

// waitTrue waits until the JavaScript expression is true.
func waitTrue(expr string) chromedp.Action[chromedp.Void] { return waitTrueFor(expr, 20*time.Second) }

// clickJS is an expression that clicks the element matching selector from the page itself and
// says whether it was there: waitTrue(clickJS(…)) clicks once it is, whatever renders it anew.
func clickJS(selector string) string {
	return `(() => { const e = document.querySelector(` + strconv.Quote(selector) + `); if (e) e.click(); return !!e })()`
}

// clickButtonJS is clickJS for the button inside container whose text is label.
func clickButtonJS(container, label string) string {
	return `(() => { const b = [...document.querySelectorAll(` + strconv.Quote(container+" button") + `)].find(b => b.textContent.trim() === ` +
		strconv.Quote(label) + `); if (b) b.click(); return !!b })()`
}

// waitTrueFor is waitTrue with its own deadline, for steps that wait on background work
// (classification, OCR) that a loaded machine may take longer over.
func waitTrueFor(expr string, within time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
		}
		return fmt.Errorf("never true: %s", expr)
	})
}

func (u *ui) login(name, password, otp string) {
	u.t.Helper()
	u.run("open login", chromedp.Navigate(u.base+"/#/login"), chromedp.WaitVisible(chromedp.CSS("#login-username")),
		chromedp.SetValue(chromedp.CSS("#login-username"), name), chromedp.SetValue(chromedp.CSS("#login-password"), password))
	u.screenshot("login")
	if otp != "" {
		u.run("ask for otp", chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#login-otp")),
			chromedp.SetValue(chromedp.CSS("#login-otp"), otp))
	}
	u.run("sign in", chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#logout")))
}

func (u *ui) logout() {
	u.t.Helper()
	u.run("sign out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-username")))
}

func (u *ui) changePassword(current, next string) {
	u.t.Helper()
	u.run("forced password change", chromedp.WaitVisible(chromedp.CSS("#cp-current")),
		chromedp.SetValue(chromedp.CSS("#cp-current"), current), chromedp.SetValue(chromedp.CSS("#cp-new"), next),
		chromedp.SetValue(chromedp.CSS("#cp-repeat"), next))
	u.screenshot("forced-password-change")
	u.run("submit password", chromedp.Click(chromedp.CSS("#cp-submit")), chromedp.WaitNotPresent(chromedp.CSS("#cp-repeat")))
}

// TestBrowserFlows runs the whole product in a real headless Chromium, once per blob store.
func TestBrowserFlows(t *testing.T) {
	for _, kind := range []string{"local", "minio"} {
		t.Run(kind, func(t *testing.T) { browserScenario(t, kind) })
	}
}

func browserScenario(t *testing.T, kind string) {
	ctx := browser(t)
	e := newEnv(t, "sqlite", kind, func(o *server.Options) {
		o.Logger = failureLog(t)
		if kind == "minio" {
			o.UploadOrigin = "http://" + os.Getenv(testenv.EnvMinIO)
		}
	})
	// Real time for the workers: a failed attempt is retried after a real backoff.
	e.clock.runLive()
	pool := classify.New(classify.Config{Workers: 2, PollInterval: 100 * time.Millisecond, Logger: e.opts.Logger}, e.store, e.blobs, nil)
	e = e.withQueue(pool)
	pool.Start()
	t.Cleanup(func() { _ = pool.Stop(context.Background()) })
	u := &ui{t: t, ctx: ctx, base: e.ts.URL, shot: kind}

	// The bootstrap admin, as first start leaves it: a password that must be changed.
	hash, _ := server.HashPassword("bootstrap-password", cheap)
	if _, err := e.store.CreateUser(context.Background(), store.NewUser{Username: "admin", PasswordHash: hash, Role: store.RoleAdmin, PasswordMustChange: true}); err != nil {
		t.Fatal(err)
	}
	u.login("admin", "bootstrap-password", "")
	u.changePassword("bootstrap-password", "the admin's own password")
	u.run("admin page", chromedp.WaitVisible(chromedp.CSS("#create-user")))
	u.run("system topic", chromedp.SetValue(chromedp.CSS("#system-topic-name"), "Finance"),
		chromedp.SetValue(chromedp.CSS("#system-topic-desc"), "electricity invoice bank taxes"),
		chromedp.Click(chromedp.CSS("#system-topic-create")),
		waitTrue(`[...document.querySelectorAll('#system-topic-list input')].some(i => i.value === 'Finance')`))
	u.run("create user", chromedp.SetValue(chromedp.CSS("#new-username"), "alice"), chromedp.SetValue(chromedp.CSS("#new-limit"), ""),
		chromedp.Click(chromedp.CSS("#create-user")), chromedp.WaitVisible(chromedp.CSS("#temp-password")))
	temp := eval[string](u, "temporary password", `document.querySelector('#temp-password').innerText`)
	u.screenshot("admin")
	if len(temp) < 12 {
		t.Fatalf("temporary password %q", temp)
	}
	alice, err := e.store.UserByUsername(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateUser(context.Background(), alice.ID, store.UserPatch{LimitBytes: ptr(int64(1_000_000))}); err != nil {
		t.Fatal(err)
	}
	u.logout()

	// alice: forced change, then three files, the third past the quota.
	u.login("alice", temp, "")
	u.changePassword(temp, "alice's own long password")
	u.run("documents page", chromedp.WaitVisible(chromedp.CSS("#file-input")), waitText("#quota-text", "0 B of 977 KiB used"))
	u.screenshot("documents-empty")
	dir := t.TempDir()
	files := map[string][]byte{
		"electricity.txt": append([]byte("Electricity invoice for March, paid by bank transfer. "), bytes.Repeat([]byte("kwh "), 75_000)...),
		"notes.txt":       bytes.Repeat([]byte("shopping list "), 300_000/14),
		"video.bin":       bytes.Repeat([]byte{7}, 1_100_000),
	}
	var paths []string
	for _, name := range []string{"electricity.txt", "notes.txt", "video.bin"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, files[name], 0o644)
		paths = append(paths, p)
	}
	used := len(files["electricity.txt"]) + len(files["notes.txt"])
	u.run("upload", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), paths),
		waitText(`li[data-name="electricity.txt"] .status`, "done"), waitText(`li[data-name="notes.txt"] .status`, "done"),
		waitText(`li[data-name="video.bin"] .status`, "Quota exceeded: "))
	progress := eval[[]int](u, "progress", `[...document.querySelectorAll('li.upload-item progress')].map(p => p.value)`)
	msg := eval[string](u, "quota message", `document.querySelector('li[data-name="video.bin"] .status').innerText`)
	if progress[0] != 100 || progress[1] != 100 || !strings.Contains(msg, "of 977 KiB used") || !strings.Contains(msg, "1.0 MiB") {
		t.Fatalf("progress %v, quota message %q", progress, msg)
	}
	pct := fmt.Sprint((100*used + 500_000) / 1_000_000)
	u.run("quota bar moved", waitText("#quota-text", "of 977 KiB used"), chromedp.WaitVisible(chromedp.CSS(`#quota-bar[aria-valuenow="`+pct+`"]`)))
	u.run("topics appear without reload", waitText("#doc-list", "Finance"))
	u.screenshot("documents-uploaded")

	u.run("search by content", chromedp.SendKeys(chromedp.CSS("#search"), "Electricity"),
		chromedp.WaitNotPresent(chromedp.Search(`//td/a[text()="notes.txt"]`)), waitText("#doc-list", "electricity.txt"))
	rows := eval[int](u, "count results", `document.querySelectorAll('#doc-list tr').length`)
	if rows != 1 {
		t.Fatalf("search shows %d rows", rows)
	}

	u.run("open document", waitTrue(clickJS(`#doc-list a[title="electricity.txt"]`)), chromedp.WaitVisible(chromedp.CSS("#doc-download")))
	u.screenshot("document")
	digest := eval[string](u, "download", `(async () => {
		const r = await fetch(document.querySelector('#doc-download').href, {credentials: 'same-origin'});
		if (!r.ok) return 'HTTP ' + r.status;
		const buf = await crypto.subtle.digest('SHA-256', await r.arrayBuffer());
		return [...new Uint8Array(buf)].map(b => b.toString(16).padStart(2, '0')).join('');
	})()`)
	want := sha256.Sum256(files["electricity.txt"])
	if digest != hex.EncodeToString(want[:]) {
		t.Fatalf("downloaded bytes differ: %s", digest)
	}
	u.run("move to trash", chromedp.Click(chromedp.CSS("#doc-trash")), chromedp.WaitVisible(chromedp.CSS("#docs-title")),
		chromedp.WaitNotPresent(chromedp.Search(`//td/a[text()="electricity.txt"]`)))
	u.run("delete for good from the trash", chromedp.Navigate(u.base+"/#/documents?trashed=true"), chromedp.WaitVisible(chromedp.Search(`//td/a[text()="electricity.txt"]`)),
		waitTrue(clickJS(`#doc-list a[title="electricity.txt"]`)), chromedp.WaitVisible(chromedp.CSS("#doc-delete")),
		chromedp.Click(chromedp.CSS("#doc-delete")), chromedp.Click(chromedp.CSS("#doc-delete-yes")), chromedp.WaitVisible(chromedp.CSS("#doc-empty")))
	pct = fmt.Sprint((100*len(files["notes.txt"]) + 500_000) / 1_000_000)
	u.run("quota bar returns", chromedp.WaitVisible(chromedp.CSS(`#quota-bar[aria-valuenow="`+pct+`"]`)))

	u.run("topics page", chromedp.Navigate(u.base+"/#/topics"), chromedp.WaitVisible(chromedp.CSS("#topic-create")),
		chromedp.SetValue(chromedp.CSS("#topic-name"), "Receipts"), chromedp.Click(chromedp.CSS("#topic-create")),
		waitTrue(`[...document.querySelectorAll('#own-topics input')].some(i => i.value === 'Receipts')`),
		waitText("#system-topics", "Finance"))
	u.screenshot("topics")

	// Two-factor: the QR code shows; a code computed here turns it on and signs in.
	u.run("account", chromedp.Navigate(u.base+"/#/account"), chromedp.WaitVisible(chromedp.CSS("#totp-setup")),
		chromedp.Click(chromedp.CSS("#totp-setup")), chromedp.WaitVisible(chromedp.CSS("#totp-qr")))
	u.run("qr loaded", chromedp.Sleep(200*time.Millisecond))
	qrWidth := eval[int](u, "qr", `document.querySelector('#totp-qr').naturalWidth`)
	secret := eval[string](u, "secret", `document.querySelector('#totp-secret').innerText`)
	u.screenshot("totp-setup")
	if qrWidth < 100 || secret == "" {
		t.Fatalf("QR code not shown: width %d secret %q", qrWidth, secret)
	}
	code, _ := totp.GenerateCode(secret, e.clock.Now())
	u.run("enable 2fa", chromedp.SetValue(chromedp.CSS("#totp-code"), code), chromedp.Click(chromedp.CSS("#totp-enable")),
		chromedp.WaitVisible(chromedp.CSS("#backup-codes")))
	u.logout()
	e.clock.Add(30 * time.Second)
	code, _ = totp.GenerateCode(secret, e.clock.Now())
	u.login("alice", "alice's own long password", code)
	u.run("signed in with 2fa", chromedp.WaitVisible(chromedp.CSS("#file-input")))
	u.logout()

	// The admin's pages never show a document name.
	u.login("admin", "the admin's own password", "")
	for _, hash := range []string{"#/admin", "#/account", "#/documents", "#/topics"} {
		u.run("admin "+hash, chromedp.Navigate(u.base+"/"+hash), chromedp.WaitVisible(chromedp.CSS("#logout")), chromedp.Sleep(300*time.Millisecond))
		text := eval[string](u, "admin page text", `document.body.innerText`)
		if strings.Contains(text, "notes.txt") || strings.Contains(text, "electricity.txt") {
			t.Fatalf("admin page %s shows a document name", hash)
		}
	}
	u.screenshot("admin-after")
	// A narrow phone screen still works.
	u.run("narrow", chromedp.EmulateViewport(360, 740), chromedp.Navigate(u.base+"/#/admin"), chromedp.WaitVisible(chromedp.CSS("#create-user")))
	u.screenshot("admin-360px")
}
