package intake_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/intake"
)

// TestConsumeAttacks: what a folder's owner could try. A link to a file outside the folder
// (the database, another user's file) is never read; a name that is not UTF-8 is refused
// into .failed/; a deactivated user's files stay where they are; another user's folder
// gives that user the document, never the dropper.
func TestConsumeAttacks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		ada := f.user(t, "ada", 1<<20)
		bob := f.user(t, "bob", 1<<20)
		clk := &clock{t: time.Now()}
		c := f.consumer(t, f.store, intake.ConsumeOptions{Now: clk.Now})
		c.Scan(ctx)
		secret := filepath.Join(t.TempDir(), "secret.txt")
		write(t, secret, "the server's secret")
		if err := os.Symlink(secret, filepath.Join(f.dir, "ada", "innocent.pdf")); err != nil {
			t.Fatal(err)
		}
		outside := t.TempDir()
		write(t, filepath.Join(outside, "inner.pdf"), "outside")
		if err := os.Symlink(outside, filepath.Join(f.dir, "ada", "linked-folder")); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(f.dir, "ada", "bad\xff\xfe.pdf"), "not UTF-8 in the name")
		write(t, filepath.Join(f.dir, "bob", "for-bob.pdf"), "dropped by whoever writes bob's folder")
		for range 3 {
			c.Scan(ctx)
			clk.Add(10 * time.Second)
		}
		if got := f.documents(t, ada); len(got) != 0 {
			t.Fatalf("ada's documents: %v", got)
		}
		if got := f.documents(t, bob); got["for-bob.pdf"] != 1 || len(got) != 1 {
			t.Fatalf("bob's documents: %v", got)
		}
		if fi, err := os.Lstat(filepath.Join(f.dir, "ada", "innocent.pdf")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the link was touched: %v", err)
		}
		if _, err := os.Stat(filepath.Join(outside, "inner.pdf")); err != nil {
			t.Fatalf("a file behind a linked folder was taken: %v", err)
		}
		reason, err := os.ReadFile(filepath.Join(f.dir, "ada", ".failed", "bad\xff\xfe.pdf.reason.txt"))
		if err != nil || !strings.Contains(string(reason), "filename") {
			t.Fatalf("reason %q, %v", reason, err)
		}

		// Deactivated: the folder stays, its files are not taken.
		if _, err := f.store.DB().Exec(`UPDATE users SET is_active = FALSE WHERE id = $1`, bob.ID); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(f.dir, "bob", "later.pdf"), "after deactivation")
		for range 2 {
			c.Scan(ctx)
			clk.Add(10 * time.Second)
		}
		if got := f.documents(t, bob); got["later.pdf"] != 0 {
			t.Fatal("a deactivated user's file was taken")
		}
		if _, err := os.Stat(filepath.Join(f.dir, "bob", "later.pdf")); err != nil {
			t.Fatalf("a deactivated user's file was moved: %v", err)
		}
		q, _ := f.store.QuotaOf(ctx, ada.ID)
		if q.UsedBytes != 0 || q.PendingBytes != 0 {
			t.Fatalf("ada's quota %+v", q)
		}
	})
}
