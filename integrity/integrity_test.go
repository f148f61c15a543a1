package integrity_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/integrity"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

type fixture struct {
	st    *store.Store
	blobs blob.Store
	dir   string // local store folder ("" on MinIO)
	user  store.User
}

func newFixture(t *testing.T, dialect, kind string) fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dialect, testenv.DSN(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	f := fixture{st: st}
	if kind == "local" {
		f.dir = t.TempDir()
		f.blobs, err = blob.NewLocal(f.dir, []byte("0123456789abcdef0123456789abcdef"))
	} else {
		cfg := testenv.MinIO(t)
		f.blobs, err = blob.NewS3(ctx, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	f.user, err = st.CreateUser(ctx, store.NewUser{Username: "alice", PasswordHash: "x", Role: store.RoleUser, LimitBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// upload stores body as a confirmed document (staging object, move, confirm with checksum).
func (f fixture) upload(t *testing.T, body string) store.Document {
	t.Helper()
	ctx := context.Background()
	d, err := f.st.CreatePending(ctx, f.user.ID, "f.txt", "text/plain", int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.blobs.Put(ctx, store.StagingKeyFor(d.ObjectKey), strings.NewReader(body), 1<<20, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.blobs.Move(ctx, store.StagingKeyFor(d.ObjectKey), d.ObjectKey); err != nil {
		t.Fatal(err)
	}
	if d, err = f.st.ConfirmUpload(ctx, f.user.ID, d.ID, info.Size, info.SHA256); err != nil {
		t.Fatal(err)
	}
	return d
}

func kinds(p []integrity.Problem) map[string]integrity.Problem {
	m := map[string]integrity.Problem{}
	for _, x := range p {
		m[x.Kind] = x
	}
	return m
}

// TestCheckFindsAndFixes: a missing object, a changed size, changed bytes of the same size,
// an orphan object, a stale temp file and a drifted quota are each found, with the document
// id; -fix deletes the orphan, removes the temp file and corrects the quota, and reports the
// bytes it cannot repair.
func TestCheckFindsAndFixes(t *testing.T) {
	for _, dialect := range testenv.Dialects() {
		for _, kind := range []string{"local", "minio"} {
			t.Run(dialect+"/"+kind, func(t *testing.T) {
				f := newFixture(t, dialect, kind)
				ctx := context.Background()
				good := f.upload(t, "all fine")
				missing := f.upload(t, "will vanish")
				resized := f.upload(t, "will grow")
				changed := f.upload(t, "original")
				if err := f.blobs.Delete(ctx, missing.ObjectKey); err != nil {
					t.Fatal(err)
				}
				if _, err := f.blobs.Put(ctx, resized.ObjectKey, strings.NewReader("will grow a lot"), 100, ""); err != nil {
					t.Fatal(err)
				}
				if _, err := f.blobs.Put(ctx, changed.ObjectKey, strings.NewReader("tampered"), 100, ""); err != nil {
					t.Fatal(err)
				}
				orphan := "u/" + f.user.ID + "/no-such-document"
				if _, err := f.blobs.Put(ctx, orphan, bytes.NewReader([]byte("lost")), 100, ""); err != nil {
					t.Fatal(err)
				}
				pending, err := f.st.CreatePending(ctx, f.user.ID, "p.txt", "text/plain", 3)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.blobs.Put(ctx, store.StagingKeyFor(pending.ObjectKey), strings.NewReader("abc"), 3, ""); err != nil {
					t.Fatal(err)
				}
				stale := ""
				if f.dir != "" {
					stale = filepath.Join(f.dir, ".tmp", "upload-left")
					if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
						t.Fatal(err)
					}
					old := time.Now().Add(-time.Hour)
					if err := os.Chtimes(stale, old, old); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := f.st.DB().Exec(`UPDATE quotas SET used_bytes = 7 WHERE user_id = $1`, f.user.ID); err != nil {
					t.Fatal(err)
				}
				later := func() time.Time { return time.Now().Add(time.Hour) } // every object is past the URL lifetime

				r, err := integrity.Check(ctx, f.st, f.blobs, integrity.Options{OrphanAge: 15 * time.Minute, Now: later})
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				r.Write(&out)
				got := kinds(r.Problems)
				if len(r.Problems) != 5 || got["missing"].DocumentID != missing.ID || got["size"].DocumentID != resized.ID ||
					got["checksum"].DocumentID != changed.ID || got["orphan"].Key != orphan || got["quota"].Kind == "" {
					t.Fatalf("problems:\n%s", out.String())
				}
				if r.Documents != 4 || !strings.Contains(out.String(), "document="+missing.ID) {
					t.Fatalf("report:\n%s", out.String())
				}

				r, err = integrity.Check(ctx, f.st, f.blobs, integrity.Options{Fix: true, OrphanAge: 15 * time.Minute, Now: later})
				if err != nil {
					t.Fatal(err)
				}
				if r.Unfixed() != 3 {
					t.Fatalf("unfixed after -fix: %d (%+v)", r.Unfixed(), r.Problems)
				}
				if _, err := f.blobs.Stat(ctx, orphan); err == nil {
					t.Fatal("orphan kept by -fix")
				}
				if _, err := f.blobs.Stat(ctx, store.StagingKeyFor(pending.ObjectKey)); err != nil {
					t.Fatalf("a pending upload's staging object was taken for an orphan: %v", err)
				}
				if _, err := f.blobs.Stat(ctx, good.ObjectKey); err != nil {
					t.Fatal(err)
				}
				if stale != "" {
					if _, err := os.Stat(stale); !os.IsNotExist(err) {
						t.Fatalf("stale temp file kept: %v", err)
					}
				}
				q, err := f.st.QuotaOf(ctx, f.user.ID)
				if err != nil || q.UsedBytes != int64(len("all fine")+len("will vanish")+len("will grow")+len("original")) || q.PendingBytes != 3 {
					t.Fatalf("quota after -fix: %+v %v", q, err)
				}
				for _, d := range []store.Document{missing, resized, changed, good, pending} {
					_ = f.blobs.Delete(ctx, d.ObjectKey)
					_ = f.blobs.Delete(ctx, store.StagingKeyFor(d.ObjectKey))
				}
			})
		}
	}
}
