package intake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

// TestConsumeFinishesAStoppedReplicasFile: a replica stopped between the commit and the
// file's removal leaves a claim naming a committed document; the next replica only removes
// the file. One stopped before the commit leaves a pending document: it is discarded and
// the file added once.
func TestConsumeFinishesAStoppedReplicasFile(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "ada", 1<<20)
		clk := &clock{t: time.Now()}
		c := f.consumer(t, f.store, intake.ConsumeOptions{Now: clk.Now, Lease: time.Minute})
		c.Scan(ctx)
		claimAs := func(name string, stop func(id string) error) {
			path := filepath.Join(f.dir, "ada", name)
			write(t, path, "letter "+name)
			fi, _ := os.Stat(path)
			key := store.ConsumeKey{Path: "ada/" + name, Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano()}
			claim, ok, err := f.store.ClaimConsumeFile(ctx, key, u.ID, "stopped", clk.Now().Add(time.Minute), clk.Now())
			if err != nil || !ok {
				t.Fatal(ok, err)
			}
			fh, _ := os.Open(path)
			defer fh.Close()
			_, err = f.ingest.Add(ctx, u.ID, ingest.File{Filename: name, Body: fh, Size: fi.Size(), Pending: func(ctx context.Context, id string) error {
				if err := f.store.SetConsumeDocument(ctx, claim, id); err != nil {
					return err
				}
				return stop(id)
			}})
			if err != nil && !errors.Is(err, errStopped) {
				t.Fatal(err)
			}
		}
		// Committed: the stop comes after the commit (the hook lets the add go on).
		claimAs("committed.pdf", func(string) error { return nil })
		// Not committed: the stop comes before any byte is stored, and the pending row is
		// put back as a killed process would leave it.
		var pendingID string
		claimAs("pending.pdf", func(id string) error { pendingID = id; return errStopped })
		if _, err := f.store.DB().Exec(`INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes, status, created_at)
			VALUES ($1, $2, 'pending.pdf', 'application/pdf', $3, 20, 'pending', $4)`, pendingID, u.ID, store.ObjectKeyFor(u.ID, pendingID), clk.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.DB().Exec(`UPDATE quotas SET pending_bytes = pending_bytes + 20 WHERE user_id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
		c.Scan(ctx)
		clk.Add(10 * time.Second)
		c.Scan(ctx) // settled, but the stopped replica's lease still runs
		if left := f.userFiles(t, "ada"); len(left) != 2 {
			t.Fatalf("taken while another replica's lease ran: %v", left)
		}
		clk.Add(time.Minute)
		c.Scan(ctx)
		got := f.documents(t, u)
		if len(got) != 2 || got["committed.pdf"] != 1 || got["pending.pdf"] != 1 {
			t.Fatalf("documents = %v", got)
		}
		if left := f.userFiles(t, "ada"); len(left) != 0 {
			t.Fatalf("left in the folder: %v", left)
		}
		if _, err := f.store.Document(ctx, u.ID, pendingID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the stopped replica's pending document: %v", err)
		}
		q, _ := f.store.QuotaOf(ctx, u.ID)
		if q.PendingBytes != 0 || q.UsedBytes != int64(len("letter committed.pdf")+len("letter pending.pdf")) {
			t.Fatalf("quota = %+v", q)
		}
		if f.claims(t) != 0 {
			t.Fatal("claims left behind")
		}
	})
}

var errStopped = errors.New("stopped")

// flakyBlobs is a blob store whose writes fail while down is set.
type flakyBlobs struct {
	blob.Store
	down atomic.Bool
}

func (b *flakyBlobs) Put(ctx context.Context, key string, r io.Reader, max int64, ct string) (blob.Info, error) {
	if b.down.Load() {
		return blob.Info{}, errors.New("connection refused")
	}
	return b.Store.Put(ctx, key, r, max, ct)
}

// TestConsumeWaitsOutAFailedDependency: while the blob store is down the file stays where
// it is (not in .failed), and it is taken once the store is back.
func TestConsumeWaitsOutAFailedDependency(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	u := f.user(t, "ada", 1<<20)
	fb := &flakyBlobs{Store: f.blobs}
	fb.down.Store(true)
	clk := &clock{t: time.Now()}
	c := f.consumer(t, f.store, intake.ConsumeOptions{Now: clk.Now, Retry: time.Minute, Ingest: newIngest(f.store, fb)})
	write(t, filepath.Join(f.dir, "ada", "bill.pdf"), "%PDF bill")
	c.Scan(ctx)
	clk.Add(10 * time.Second)
	c.Scan(ctx)
	if left := f.userFiles(t, "ada"); len(left) != 1 {
		t.Fatalf("folder = %v", left)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "ada", ".failed")); !os.IsNotExist(err) {
		t.Fatal("a failed dependency was taken for a refusal")
	}
	fb.down.Store(false)
	c.Scan(ctx) // within the retry wait: not yet
	if len(f.documents(t, u)) != 0 {
		t.Fatal("retried before the wait")
	}
	clk.Add(time.Minute)
	c.Scan(ctx)
	if got := f.documents(t, u); got["bill.pdf"] != 1 || len(f.userFiles(t, "ada")) != 0 {
		t.Fatalf("after the store came back: %v", got)
	}
}

// TestConsumeKilledMidway runs a consumer in a child process, kills it (SIGKILL) while it
// works through 60 files, and lets a fresh consumer finish: every file becomes exactly one
// document and nothing stays in the folder.
func TestConsumeKilledMidway(t *testing.T) {
	if os.Getenv("DOCUVAULT_CONSUME_CHILD") != "" {
		return // the child runs TestConsumeChild
	}
	forEachLocal(t, func(t *testing.T, f *fixture) {
		u := f.user(t, "ada", 1<<30)
		const n = 60
		dir := filepath.Join(f.dir, "ada")
		var total int64
		for i := range n {
			body := fmt.Sprintf("page %d %s", i, strings.Repeat("x", i*50))
			total += int64(len(body))
			write(t, filepath.Join(dir, fmt.Sprintf("p%02d.txt", i)), body)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestConsumeChild$", "-test.v")
		cmd.Env = append(os.Environ(), "DOCUVAULT_CONSUME_CHILD=1", "DOCUVAULT_CONSUME_DIALECT="+f.dialect,
			"DOCUVAULT_CONSUME_DSN="+f.dsn, "DOCUVAULT_CONSUME_BLOBS="+f.blobDir, "DOCUVAULT_CONSUME_DIR="+f.dir)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the child to take some files", 30*time.Second, func() bool { return len(f.documents(t, u)) >= n/4 })
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		taken := len(f.documents(t, u))
		if taken == n {
			t.Log("the child finished before the kill; recovery had nothing to do")
		}
		c := f.consumer(t, f.store, intake.ConsumeOptions{Settle: 10 * time.Millisecond, Rescan: 100 * time.Millisecond, Lease: time.Second})
		run(t, c)
		waitFor(t, "every file", 60*time.Second, func() bool { return len(f.userFiles(t, "ada")) == 0 })
		got := f.documents(t, u)
		if len(got) != n {
			t.Fatalf("%d documents for %d files (%d before the kill)", len(got), n, taken)
		}
		for name, k := range got {
			if k != 1 {
				t.Fatalf("%s taken %d times", name, k)
			}
		}
		q, _ := f.store.QuotaOf(context.Background(), u.ID)
		if q.UsedBytes != total {
			t.Fatalf("used %d bytes, files hold %d", q.UsedBytes, total)
		}
	})
}

// TestConsumeChild is TestConsumeKilledMidway's child: one worker, each file slowed so the
// kill lands in the middle.
func TestConsumeChild(t *testing.T) {
	if os.Getenv("DOCUVAULT_CONSUME_CHILD") == "" {
		t.Skip("runs only as TestConsumeKilledMidway's child process")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, os.Getenv("DOCUVAULT_CONSUME_DIALECT"), os.Getenv("DOCUVAULT_CONSUME_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := blob.NewLocal(os.Getenv("DOCUVAULT_CONSUME_BLOBS"), []byte("test-upload-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := intake.NewConsumer(intake.ConsumeOptions{Dir: os.Getenv("DOCUVAULT_CONSUME_DIR"), Store: st,
		Ingest: slowAdder{newIngest(st, bs)}, Logger: quiet, Settle: 10 * time.Millisecond, Workers: 2, Lease: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Run(ctx) // until killed
}

// slowAdder pauses inside each add, between the pending row and the bytes.
type slowAdder struct{ *ingest.Service }

func (s slowAdder) Add(ctx context.Context, userID string, f ingest.File) (store.Document, error) {
	pending := f.Pending
	f.Pending = func(ctx context.Context, id string) error {
		if err := pending(ctx, id); err != nil {
			return err
		}
		time.Sleep(15 * time.Millisecond)
		return nil
	}
	d, err := s.Service.Add(ctx, userID, f)
	time.Sleep(15 * time.Millisecond) // after the commit, before the claim is settled
	return d, err
}
