package server_test

import (
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/docuvault/docuvault/store"
)

// manifest is the part of the web app manifest that installation and sharing depend on.
type manifest struct {
	Name        string `json:"name"`
	ShortName   string `json:"short_name"`
	StartURL    string `json:"start_url"`
	Display     string `json:"display"`
	Icons       []struct{ Src, Sizes, Type, Purpose string }
	ShareTarget struct {
		Action  string `json:"action"`
		Method  string `json:"method"`
		Enctype string `json:"enctype"`
		Params  struct {
			Files []struct {
				Name   string   `json:"name"`
				Accept []string `json:"accept"`
			} `json:"files"`
		} `json:"params"`
	} `json:"share_target"`
}

// TestManifestAndIcons: the manifest has what an installable app with a share target needs,
// and every icon it names is a PNG of the stated size.
func TestManifestAndIcons(t *testing.T) {
	e := newEnv(t, "sqlite", "local")
	resp, err := http.Get(e.ts.URL + "/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m manifest
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("manifest: %d %v", resp.StatusCode, err)
	}
	if m.Name == "" || m.ShortName == "" || m.StartURL == "" || m.Display != "standalone" {
		t.Fatalf("manifest = %+v", m)
	}
	st := m.ShareTarget
	if st.Action != "/share" || st.Method != "POST" || st.Enctype != "multipart/form-data" || len(st.Params.Files) != 1 ||
		st.Params.Files[0].Name != "files" || len(st.Params.Files[0].Accept) == 0 {
		t.Fatalf("share_target = %+v", st)
	}
	sizes := map[string]bool{}
	for _, ic := range m.Icons {
		r, err := http.Get(e.ts.URL + ic.Src)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(r.Body)
		r.Body.Close()
		if err != nil || r.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %v (%s)", ic.Src, err, r.Header.Get("Content-Type"))
		}
		b := img.Bounds()
		if got := strings.Join([]string{itoa(b.Dx()), itoa(b.Dy())}, "x"); got != ic.Sizes {
			t.Fatalf("%s is %s, manifest says %s", ic.Src, got, ic.Sizes)
		}
		sizes[ic.Sizes] = true
	}
	if !sizes["192x192"] || !sizes["512x512"] {
		t.Fatalf("icon sizes %v", sizes)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestShareWithoutWorkerKeepsNothing: a share-target POST that reaches the server (no
// service worker took it) carries no CSRF token, so it keeps nothing, signed in or not.
func TestShareWithoutWorkerKeepsNothing(t *testing.T) {
	e := newEnv(t, "sqlite", "local")
	u := e.createUser("alice", store.RoleUser, 1<<20)
	c := e.login("alice", testPassword)
	for _, who := range []*client{c, e.anonymous()} {
		body := "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
		resp := who.request("POST", "/share", body, "Content-Type", "multipart/form-data; boundary=b")
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/#/documents" {
			t.Fatalf("POST /share: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	docs, _, err := e.store.ListDocuments(context.Background(), u.ID, store.DocumentFilter{Limit: 10})
	if err != nil || len(docs) != 0 {
		t.Fatalf("documents after a bare share POST: %d, %v", len(docs), err)
	}
}

// TestBrowserPWA: in Chromium the manifest is linked, the service worker controls the
// page, the upload control offers the camera, and a share-target POST (a multipart form
// posted to /share, as the system share sheet does) ends, after the user's yes, as an
// uploaded document through the three-step flow; nothing under /api/ is cached.
func TestBrowserPWA(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, "sqlite", "local")
	alice := e.createUser("alice", store.RoleUser, 1<<20)
	u := &ui{t: t, ctx: ctx, base: e.ts.URL, shot: "pwa"}
	u.login("alice", testPassword, "")
	u.run("documents page", chromedp.WaitVisible(chromedp.CSS("#file-input")))
	if href := eval[string](u, "manifest link", `document.querySelector('link[rel=manifest]').href`); href != e.ts.URL+"/manifest.json" {
		t.Fatalf("manifest link %q", href)
	}
	u.run("service worker", waitTrue(`navigator.serviceWorker.controller !== null`))
	scope := eval[string](u, "worker scope", `navigator.serviceWorker.ready.then(r => r.scope)`)
	if scope != e.ts.URL+"/" {
		t.Fatalf("service worker scope %q", scope)
	}
	icons := eval[string](u, "icons in the browser", `(async () => {
		const m = await (await fetch('/manifest.json')).json();
		const out = [];
		for (const ic of m.icons) {
			const bmp = await createImageBitmap(await (await fetch(ic.src)).blob());
			out.push(bmp.width + 'x' + bmp.height);
		}
		return out.join(',');
	})()`)
	if !strings.Contains(icons, "192x192") || !strings.Contains(icons, "512x512") {
		t.Fatalf("icons decoded by the browser: %s", icons)
	}
	camera := eval[string](u, "camera control", `(() => { const i = document.querySelector('#camera-input'); return i ? i.accept + ' ' + i.getAttribute('capture') : ''; })()`)
	if camera != "image/* environment" {
		t.Fatalf("camera control %q", camera)
	}

	// The share: a multipart POST navigation to /share, as the share sheet sends it.
	u.run("share", chromedp.Evaluate[chromedp.Void](`(() => {
		const form = document.createElement('form');
		form.method = 'POST'; form.action = '/share'; form.enctype = 'multipart/form-data';
		const input = document.createElement('input');
		input.type = 'file'; input.name = 'files'; input.multiple = true;
		const dt = new DataTransfer();
		dt.items.add(new File(['the letter from the bank, shared'], 'shared-letter.txt', { type: 'text/plain' }));
		dt.items.add(new File(['%PDF-1.4 a receipt'], 'receipt.pdf', { type: 'application/pdf' }));
		input.files = dt.files;
		form.append(input);
		document.body.append(form);
		form.submit();
	})()`), chromedp.WaitVisible(chromedp.CSS("#share-offer")))
	u.run("offer names the files", waitText("#share-offer", "2 files shared with DocuVault: "))
	u.screenshot("share-offer")
	docs, _, _ := e.store.ListDocuments(context.Background(), alice.ID, store.DocumentFilter{Limit: 10})
	if len(docs) != 0 {
		t.Fatal("shared files were uploaded before the user said yes")
	}
	u.run("upload the shared files", chromedp.Click(chromedp.CSS("#share-upload")),
		waitTrue(`document.querySelectorAll('#uploads .status.ok').length === 2`))
	docs, _, err := e.store.ListDocuments(context.Background(), alice.ID, store.DocumentFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, d := range docs {
		if d.Status == store.StatusPending {
			t.Fatalf("%s still pending", d.Filename)
		}
		got[d.Filename] = d.SizeBytes
	}
	if got["shared-letter.txt"] != int64(len("the letter from the bank, shared")) || got["receipt.pdf"] != int64(len("%PDF-1.4 a receipt")) {
		t.Fatalf("documents %v", got)
	}
	if left := eval[int](u, "inbox emptied", `caches.open('docuvault-share-inbox').then(c => c.keys()).then(k => k.length)`); left != 0 {
		t.Fatalf("%d shared files left in the inbox", left)
	}
	cached := eval[string](u, "cached requests", `(async () => {
		const urls = [];
		for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
		return urls.join(' ');
	})()`)
	if strings.Contains(cached, "/api/") || !strings.Contains(cached, e.ts.URL+"/") {
		t.Fatalf("cached: %s", cached)
	}
	// A reload after the upload offers nothing again.
	u.run("reload", chromedp.Navigate(e.ts.URL+"/#/documents"), chromedp.WaitVisible(chromedp.CSS("#camera-input")))
	if n := eval[int](u, "no second offer", `document.querySelectorAll('#share-offer').length`); n != 0 {
		t.Fatal("the share was offered twice")
	}
}
