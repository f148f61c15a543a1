package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/docuvault/docuvault/internal/loadgen"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// TestUISelectAllMatching: "Select all" acts on every document the filter matches, not only
// the loaded pages, past the server's 500-document bound on one bulk request: 1,200
// classified documents get a topic, go to the trash and come back with Undo, in chunked
// requests with the progress shown, while the user's three unfinished uploads (outside the
// filter) are left alone. Without the filter the first chunk holds the unfinished uploads,
// which cannot go to the trash: the server refuses that request whole and the page says so,
// with nothing changed. On both databases.
func TestUISelectAllMatching(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { selectAllScenario(t, dialect) })
	}
}

func selectAllScenario(t *testing.T, dialect string) {
	ctx := context.Background()
	e := newEnv(t, dialect, "local", func(o *server.Options) { o.Logger = failureLog(t) })
	alice := e.createUser("alice", store.RoleUser, 1<<50)
	if err := loadgen.SeedUser(ctx, e.store, alice.ID, 1200, 3); err != nil {
		t.Fatal(err)
	}
	var pending []string
	for i := range 3 {
		d, err := e.store.CreatePending(ctx, alice.ID, fmt.Sprintf("scan-%d.pdf", i), "application/pdf", 1000)
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, d.ID)
	}
	finance, err := e.store.AddTopic(ctx, store.Topic{Name: "Finance", Color: "#1f7a3a"})
	if err != nil {
		t.Fatal(err)
	}
	count := func(what, q string, args ...any) int {
		t.Helper()
		var n int
		if err := e.store.DB().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return n
	}
	withTopic := func() int {
		return count("with topic", `SELECT COUNT(*) FROM document_topics dt JOIN documents d ON d.id = dt.document_id
			WHERE d.user_id = $1 AND dt.topic_id = $2`, alice.ID, finance.ID)
	}
	trashed := func() int {
		return count("trashed", `SELECT COUNT(*) FROM documents WHERE user_id = $1 AND trashed_at IS NOT NULL`, alice.ID)
	}

	p := newPage(t, e.ts.URL, "select-all-"+dialect)
	p.expect("(Unauthorized) "+e.ts.URL+"/api/auth/me", "status of 409")
	p.signIn("alice", testPassword)
	// Every text the progress line shows is kept, however briefly it is there.
	watch := `(() => { window.__progress = []; new MutationObserver(() => { const el = document.querySelector('#bulk-progress');
		if (el && window.__progress.at(-1) !== el.textContent) window.__progress.push(el.textContent); })
		.observe(document.body, { childList: true, subtree: true, characterData: true }); return true; })()`
	p.run("classified only", chromedp.Navigate(p.base+"/#/documents?status=classified"), waitTrue(`document.querySelectorAll('#doc-list tr').length === 100`),
		waitText("#doc-count", "100 documents (more below)"))
	eval[bool](p.ui, "watch progress", watch)
	p.run("select the page", jsClick("#select-page"), waitText("#bulk-count", "100 selected"))
	p.run("select all matching", jsClick("#select-all"), waitText("#bulk-count", "All matching selected"))
	if dialect == "sqlite" {
		p.views("documents-select-all", "#bulk-count")
	}
	p.run("add a topic to all", chromedp.Evaluate[chromedp.Void](`document.querySelector('#bulk-topic').value = '`+finance.ID+`'`),
		jsClick("#bulk-add-topic"), waitText("#toasts", "Topic added."), chromedp.WaitNotVisible(chromedp.CSS("#bulkbar")))
	if n := withTopic(); n != 1200 {
		t.Fatalf("%d documents have the topic, want the 1200 that matched", n)
	}
	for _, id := range pending {
		if d, err := e.store.Document(ctx, alice.ID, id); err != nil || len(d.Topics) != 0 {
			t.Fatalf("unfinished upload outside the filter changed: %+v %v", d, err)
		}
	}
	progress := eval[[]string](p.ui, "progress", `window.__progress`)
	want := []string{"Adding the topic to 500 of 1200…", "Adding the topic to 1000 of 1200…", "Adding the topic to 1200 of 1200…"}
	for _, w := range want {
		found := false
		for _, g := range progress {
			found = found || g == w
		}
		if !found {
			t.Fatalf("progress shown %q, missing %q", progress, w)
		}
	}

	p.run("select all again", jsClick("#select-page"), jsClick("#select-all"), waitText("#bulk-count", "All matching selected"),
		jsClick("#bulk-trash"), waitText("#toasts", "1200 moved to the trash."), waitText("#doc-empty", "No documents match"))
	if n := trashed(); n != 1200 {
		t.Fatalf("%d documents in the trash, want 1200", n)
	}
	p.screenshot("select-all-trashed")
	p.run("undo", waitTrue(clickButtonJS("#toasts", "Undo")), waitTrue(`document.querySelectorAll('#doc-list tr').length === 100`), waitText("#doc-count", "100 documents (more below)"))
	if n := trashed(); n != 0 {
		t.Fatalf("%d documents still in the trash after Undo", n)
	}

	// Without the filter the newest are the unfinished uploads: their request is refused whole.
	p.run("all documents", chromedp.Navigate(p.base+"/#/documents"), waitText("#doc-count", "100 of 1203 documents"),
		jsClick("#select-page"), jsClick("#select-all"), waitText("#bulk-count", "1203 selected"), jsClick("#bulk-trash"),
		waitTrue(`document.querySelector('#toasts').innerText.length > 0 && !document.querySelector('#bulk-progress')`))
	if txt := eval[string](p.ui, "toast", `document.querySelector('#toasts').innerText`); !strings.Contains(txt, "the upload of this document is not finished") {
		t.Fatalf("refused chunk reported as %q", txt)
	}
	if n := trashed(); n != 0 {
		t.Fatalf("%d documents went to the trash from a refused request", n)
	}
	if n := withTopic(); n != 1200 {
		t.Fatalf("topics changed: %d", n)
	}
}
