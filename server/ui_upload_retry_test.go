package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/docuvault/docuvault/server"
)

// TestUIUploadSendsAgainAfterAStorageFault: the browser sends an upload once more when the
// storage fails it (here the local store's write answers 503 once), and the document
// arrives; when the storage keeps failing, it says so after the second try and sends no
// more.
func TestUIUploadSendsAgainAfterAStorageFault(t *testing.T) {
	ctx := browser(t)
	var h *hookBlobs
	e := newEnv(t, "sqlite", "local", withHooks(&h), func(o *server.Options) { o.Logger = failureLog(t) })
	var failures, puts atomic.Int64
	failures.Store(1)
	h.set(func(h *hookBlobs) {
		h.failPut = func(string) error {
			puts.Add(1)
			if failures.Add(-1) >= 0 {
				return errors.New("disk unavailable")
			}
			return nil
		}
	})
	e.createUser("alice", "user", 1<<20)
	u := &ui{t: t, ctx: ctx, base: e.ts.URL, shot: "upload-retry"}
	u.login("alice", testPassword, "")
	dir := t.TempDir()
	once, always := filepath.Join(dir, "once.txt"), filepath.Join(dir, "always.txt")
	os.WriteFile(once, []byte("a storage fault, then stored"), 0o644)
	os.WriteFile(always, []byte("a storage that keeps failing"), 0o644)

	u.run("upload through one fault", chromedp.WaitVisible(chromedp.CSS("#file-input")),
		chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{once}),
		waitText("#doc-list", "once.txt"), waitText("#quota-text", "28 B of 1.0 MiB used"))
	if n := puts.Load(); n != 2 {
		t.Fatalf("the upload was sent %d times, want 2", n)
	}

	failures.Store(100)
	puts.Store(0)
	u.run("upload through a lasting fault", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{always}),
		waitText(`li[data-name="always.txt"] .status`, "Upload failed (HTTP 503)."))
	if n := puts.Load(); n != 2 {
		t.Fatalf("a failing upload was sent %d times, want 2", n)
	}
}
