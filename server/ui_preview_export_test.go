package server_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/docuvault/docuvault/internal/testdocs"
	"github.com/docuvault/docuvault/store"
)

// TestUIPDFPreviewAndExport: a PDF's preview is framed on the document page (the page's CSP
// lets it frame the blob: URL it made, and nothing else is refused on the console), and the
// account page's "Download all my documents" link answers a zip of the user's documents.
func TestUIPDFPreviewAndExport(t *testing.T) {
	e := newEnv(t, "sqlite", "local")
	e.createUser("alice", store.RoleUser, 50<<20)
	api := e.login("alice", testPassword)
	id := uploadBytes(t, api, "lease.pdf", "application/pdf", testdocs.TextPDF([]string{"Lease agreement for the flat in Lisbon"}))

	p := newPage(t, e.ts.URL, "preview-export")
	p.expect("(Unauthorized) " + e.ts.URL + "/api/auth/me")
	p.signIn("alice", testPassword)
	p.run("pdf preview", chromedp.Navigate(p.base+"/#/documents/"+id), chromedp.WaitVisible(chromedp.CSS("#doc-preview-frame")))
	if src := eval[string](p.ui, "frame src", `document.querySelector('#doc-preview-frame').src`); len(src) < 5 || src[:5] != "blob:" {
		t.Fatalf("preview frame src %q, want a blob: URL", src)
	}
	if typ := eval[string](p.ui, "preview type", `fetch('/api/documents/`+id+`/preview').then(r => r.headers.get('Content-Type'))`); typ != "application/pdf" {
		t.Fatalf("preview content type %q", typ)
	}
	p.run("account", chromedp.Navigate(p.base+"/#/account"), chromedp.WaitVisible(chromedp.CSS("#export-all")))
	magic := eval[string](p.ui, "export", `fetch(document.querySelector('#export-all').href).then(r => r.arrayBuffer()).then(b => String.fromCharCode(...new Uint8Array(b).slice(0, 2)))`)
	if magic != "PK" {
		t.Fatalf("Download all my documents answered %q, not a zip", magic)
	}
}
