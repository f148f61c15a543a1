package intake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

// TestConsumeSlowWriteNotTakenEarly: a file written in chunks slower than nothing changes
// for the settle time is taken only once complete, whole, and then removed.
func TestConsumeSlowWriteNotTakenEarly(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "ada", 1<<20)
		clk := &clock{t: time.Now()}
		c := f.consumer(t, f.store, intake.ConsumeOptions{Settle: 5 * time.Second, Now: clk.Now})
		c.Scan(ctx) // makes ada's folder
		path := filepath.Join(f.dir, "ada", "scan.pdf")
		fh, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		for i := range 4 {
			if _, err := fmt.Fprintf(fh, "%%PDF chunk %d\n", i); err != nil {
				t.Fatal(err)
			}
			c.Scan(ctx)
			clk.Add(4 * time.Second) // less than the settle time between chunks
			c.Scan(ctx)
			if n := len(f.documents(t, u)); n != 0 {
				t.Fatalf("taken after chunk %d of 4", i)
			}
		}
		clk.Add(time.Second) // 5 s since the last chunk
		c.Scan(ctx)
		docs, _, err := f.store.ListDocuments(ctx, u.ID, store.DocumentFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		want := int64(len("%PDF chunk 0\n") * 4)
		if len(docs) != 1 || docs[0].SizeBytes != want || docs[0].Filename != "scan.pdf" || docs[0].Status != store.StatusUploaded {
			t.Fatalf("documents = %+v", docs)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("consumed file still there: %v", err)
		}
		if f.claims(t) != 0 {
			t.Fatal("claim left behind")
		}
	})
}

// TestConsumeIgnoresHiddenAndTemporary: dot files, .part, .tmp and ~$ files stay where
// they are; folders of inactive users and admins are not made.
func TestConsumeIgnoresHiddenAndTemporary(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	u := f.user(t, "ada", 1<<20)
	if _, err := f.store.CreateUser(ctx, store.NewUser{Username: "root", PasswordHash: "x", Role: store.RoleAdmin, LimitBytes: 1}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	c := f.consumer(t, f.store, intake.ConsumeOptions{Now: clk.Now})
	names := []string{".hidden.pdf", "upload.pdf.part", "copy.tmp", "~$letter.docx", ".sync/inner.pdf"}
	for _, n := range names {
		write(t, filepath.Join(f.dir, "ada", n), "x")
	}
	write(t, filepath.Join(f.dir, "stray.pdf"), "x") // no user's folder
	c.Scan(ctx)
	clk.Add(time.Minute)
	c.Scan(ctx)
	if n := len(f.documents(t, u)); n != 0 {
		t.Fatalf("%d ignored files taken", n)
	}
	for _, n := range append(names, "../stray.pdf") {
		if _, err := os.Stat(filepath.Join(f.dir, "ada", n)); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	if _, err := os.Stat(filepath.Join(f.dir, "root")); !os.IsNotExist(err) {
		t.Fatalf("an admin got a consume folder: %v", err)
	}
}

// TestConsumeRefusedGoesToFailed: a file over the quota, one of a type not accepted and
// one with a name no document may have are moved to .failed/ with a reason each; further
// scans neither retry them nor write more reasons; the quota is untouched.
func TestConsumeRefusedGoesToFailed(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "ada", 100)
		strict := ingest.New(ingest.Options{Store: f.store, Blobs: f.blobs, Logger: quiet, MaxUploadBytes: 1 << 20,
			AllowedContentTypes: []string{"application/pdf", "text/*"}})
		clk := &clock{t: time.Now()}
		c := f.consumer(t, f.store, intake.ConsumeOptions{Now: clk.Now, Ingest: strict})
		c.Scan(ctx)
		write(t, filepath.Join(f.dir, "ada", "big.pdf"), strings.Repeat("x", 101))
		write(t, filepath.Join(f.dir, "ada", "tool.exe"), "MZ")
		write(t, filepath.Join(f.dir, "ada", "ok.txt"), "fine")
		write(t, filepath.Join(f.dir, "ada", "bidi\u202etxt.exe"), "MZ")
		for range 3 {
			c.Scan(ctx)
			clk.Add(10 * time.Second)
		}
		if got := f.documents(t, u); len(got) != 1 || got["ok.txt"] != 1 {
			t.Fatalf("documents = %v", got)
		}
		if left := f.userFiles(t, "ada"); len(left) != 0 {
			t.Fatalf("left in the folder: %v", left)
		}
		failed, err := os.ReadDir(filepath.Join(f.dir, "ada", ".failed"))
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != 6 {
			t.Fatalf(".failed holds %d entries, want 3 files and 3 reasons", len(failed))
		}
		for name, want := range map[string]string{"big.pdf": "quota exceeded", "tool.exe": "not accepted", "bidi\u202etxt.exe": "bidi"} {
			body, err := os.ReadFile(filepath.Join(f.dir, "ada", ".failed", name))
			if err != nil || len(body) == 0 {
				t.Fatalf("%s not kept in .failed: %v", name, err)
			}
			reason, err := os.ReadFile(filepath.Join(f.dir, "ada", ".failed", name+".reason.txt"))
			if err != nil || !strings.Contains(string(reason), want) {
				t.Fatalf("%s: reason %q, %v", name, reason, err)
			}
		}
		q, _ := f.store.QuotaOf(ctx, u.ID)
		if q.UsedBytes != 4 || q.PendingBytes != 0 {
			t.Fatalf("quota = %+v", q)
		}
		// The same name refused again does not overwrite the first.
		write(t, filepath.Join(f.dir, "ada", "big.pdf"), strings.Repeat("y", 150))
		c.Scan(ctx)
		clk.Add(10 * time.Second)
		c.Scan(ctx)
		if _, err := os.Stat(filepath.Join(f.dir, "ada", ".failed", "big (2).pdf.reason.txt")); err != nil {
			t.Fatalf("second refusal of one name: %v", err)
		}
		if f.claims(t) != 0 {
			t.Fatal("claims left behind")
		}
	})
}

// TestConsumeBurstExactlyOnce: 200 files dropped at once into a watched folder (fsnotify)
// become 200 documents, each once, and leave the folder.
func TestConsumeBurstExactlyOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		u := f.user(t, "ada", 1<<30)
		c := f.consumer(t, f.store, intake.ConsumeOptions{Settle: 50 * time.Millisecond, Rescan: time.Hour})
		run(t, c)
		dir := filepath.Join(f.dir, "ada")
		waitFor(t, "ada's folder", 10*time.Second, func() bool { _, err := os.Stat(dir); return err == nil })
		const n = 200
		for i := range n {
			write(t, filepath.Join(dir, fmt.Sprintf("scan-%03d.txt", i)), fmt.Sprintf("page %d", i))
		}
		waitFor(t, "200 documents", 60*time.Second, func() bool { return len(f.documents(t, u)) >= n && len(f.userFiles(t, "ada")) == 0 })
		got := f.documents(t, u)
		for i := range n {
			if name := fmt.Sprintf("scan-%03d.txt", i); got[name] != 1 {
				t.Fatalf("%s taken %d times", name, got[name])
			}
		}
		if len(got) != n {
			t.Fatalf("%d documents", len(got))
		}
	})
}

// TestConsumeTwoReplicasTakeEachFileOnce: two consumers with their own database
// connections watch one folder, as two replicas on shared storage do; each of 200 files
// becomes one document.
func TestConsumeTwoReplicasTakeEachFileOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		u := f.user(t, "ada", 1<<30)
		other := openStore(t, f.dialect, f.dsn)
		a := f.consumer(t, f.store, intake.ConsumeOptions{Settle: 30 * time.Millisecond, Rescan: 200 * time.Millisecond, Holder: "a"})
		b := f.consumer(t, other, intake.ConsumeOptions{Settle: 30 * time.Millisecond, Rescan: 200 * time.Millisecond, Holder: "b",
			Ingest: newIngest(other, f.blobs)})
		dir := filepath.Join(f.dir, "ada")
		write(t, filepath.Join(dir, "first.txt"), "first")
		run(t, a)
		run(t, b)
		const n = 200
		for i := range n {
			write(t, filepath.Join(dir, fmt.Sprintf("page-%03d.txt", i)), fmt.Sprintf("page %d", i))
		}
		waitFor(t, "all documents", 90*time.Second, func() bool { return len(f.documents(t, u)) >= n+1 && len(f.userFiles(t, "ada")) == 0 })
		a.Scan(context.Background()) // one more pass of each: a late second take would show now
		b.Scan(context.Background())
		got := f.documents(t, u)
		if len(got) != n+1 {
			t.Fatalf("%d documents for %d files", len(got), n+1)
		}
		for name, k := range got {
			if k != 1 {
				t.Fatalf("%s taken %d times", name, k)
			}
		}
		var holders int
		if err := f.store.DB().QueryRow(`SELECT COUNT(*) FROM documents WHERE user_id = $1 AND status = 'pending'`, u.ID).Scan(&holders); err != nil || holders != 0 {
			t.Fatalf("%d pending documents left (%v)", holders, err)
		}
	})
}
