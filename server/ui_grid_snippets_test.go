package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/docuvault/docuvault/internal/testdocs"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// TestUIGridThumbnailsAndSnippets: once the workers have read an uploaded PNG and PDF, the
// grid view loads their real thumbnails (images the browser decoded, not placeholders); a
// search shows each result's snippet with the match in <mark>, and markup in a document's
// text — a script, an image with a handler, a <mark> of its own — stays text.
func TestUIGridThumbnailsAndSnippets(t *testing.T) {
	e := newEnv(t, "sqlite", "local", func(o *server.Options) { o.Logger = failureLog(t) })
	e.clock.runLive()
	e = withContentPool(t, e, nil) // PDFium for the PDF; the image needs no OCR for its thumbnail
	e.createUser("alice", store.RoleUser, 50<<20)
	api := e.login("alice", testPassword)
	uploadBytes(t, api, "photo.png", "image/png", tinyPNG())
	uploadBytes(t, api, "lease.pdf", "application/pdf", testdocs.TextPDF([]string{"Lease agreement for the flat in Lisbon, signed in March."}))
	uploadBytes(t, api, "notes.txt", "text/plain", []byte(`Notes on Lisbon: <script>alert(1)</script> <img src=x onerror="alert(2)"> <mark>fake</mark> <b>bold</b> & more.`))

	p := newPage(t, e.ts.URL, "grid-snippets")
	p.expect("(Unauthorized) " + e.ts.URL + "/api/auth/me")
	p.signIn("alice", testPassword)
	// The page refreshes itself while the workers run; every document ends classified or
	// waiting for a topic.
	p.run("grid", chromedp.Navigate(p.base+"/#/documents?view=grid"), waitTrue(`document.querySelectorAll('#doc-list .tile').length === 3`),
		waitTrueFor(`[...document.querySelectorAll('#doc-list .tile')].every((t) => t.dataset.status === 'classified')`, 2*time.Minute))
	p.run("thumbnails decoded", waitTrue(`(() => { const imgs = [...document.querySelectorAll('#doc-list .tile .thumb img')];
		return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0); })()`))
	withThumb := eval[[]string](p.ui, "tiles with a thumbnail", `[...document.querySelectorAll('#doc-list .tile')].filter((t) => t.querySelector('.thumb img')).map((t) => t.querySelector('a.name').title).sort()`)
	if len(withThumb) != 2 || withThumb[0] != "lease.pdf" || withThumb[1] != "photo.png" {
		t.Fatalf("tiles with a thumbnail: %q, want lease.pdf and photo.png", withThumb)
	}
	if w := eval[int](p.ui, "thumbnail width", `document.querySelector('#doc-list .tile .thumb img').naturalWidth`); w < 32 {
		t.Fatalf("thumbnail decoded %d px wide", w)
	}
	p.views("documents-grid-thumbnails", "#doc-list .tile .thumb img")

	p.run("search", chromedp.Navigate(p.base+"/#/documents"), waitTrue(`document.querySelectorAll('#doc-list tr').length === 3`),
		chromedp.SendKeys(chromedp.CSS("#search"), "lisb"), waitTrue(`location.hash.includes('q=lisb')`),
		waitTrue(`document.querySelectorAll('#doc-list tr').length === 2 && document.querySelectorAll('#doc-list .snippet').length === 2`))
	marks := eval[[]string](p.ui, "marks", `[...document.querySelectorAll('#doc-list .snippet mark')].map((m) => m.textContent)`)
	if len(marks) < 2 {
		t.Fatalf("snippets mark %q, want the match in each", marks)
	}
	for _, m := range marks {
		if m != "Lisbon" {
			t.Fatalf("a snippet marks %q, want only the match Lisbon", m)
		}
	}
	if n := eval[int](p.ui, "no markup from the text", `document.querySelectorAll('#doc-list script, #doc-list img, #doc-list b, #doc-list [onerror]').length`); n != 0 {
		t.Fatalf("document text became %d elements", n)
	}
	notes := eval[string](p.ui, "notes snippet", `[...document.querySelectorAll('#doc-list tr')].find((r) => r.querySelector('a.name').title === 'notes.txt').querySelector('.snippet').textContent`)
	if !containsAll(notes, "<script>", "<mark>fake</mark>", "& more") {
		t.Fatalf("the notes' snippet shows %q, not its text as text", notes)
	}
	p.views("documents-search-snippets", "#doc-list .snippet mark")
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
