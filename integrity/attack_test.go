package integrity_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/integrity"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// deletingBlobs deletes a document (its row, then its objects, as the server's DELETE does)
// right when the check opens its object: before the open, or after it and before the read.
type deletingBlobs struct {
	blob.Store
	st     *store.Store
	userID string
	after  bool
	mu     sync.Mutex
	docs   map[string]string // object key -> document id
}

func (d *deletingBlobs) remove(t *testing.T, key string) {
	d.mu.Lock()
	id, ok := d.docs[key]
	delete(d.docs, key)
	d.mu.Unlock()
	if !ok {
		return
	}
	keys, err := d.st.DeleteDocument(context.Background(), d.userID, id)
	if err != nil {
		t.Error(err)
		return
	}
	for _, k := range keys {
		if err := d.Store.Delete(context.Background(), k); err != nil {
			t.Error(err)
		}
	}
}

func (d *deletingBlobs) Open(ctx context.Context, key string) (io.ReadSeekCloser, blob.Info, error) {
	t := ctx.Value(testKey{}).(*testing.T)
	if !d.after {
		d.remove(t, key)
	}
	rc, info, err := d.Store.Open(ctx, key)
	if d.after {
		d.remove(t, key)
	}
	return rc, info, err
}

type testKey struct{}

// TestCheckRacingDeletes: documents deleted by their owner while the check reads them are
// neither reported as missing or changed bytes nor make the check (and so the scheduled
// sweep, with its orphan and quota repairs) fail: anyone could otherwise keep the sweep from
// ever finishing by deleting documents while it runs.
func TestCheckRacingDeletes(t *testing.T) {
	for _, dialect := range testenv.Dialects() {
		for _, kind := range []string{"local", "minio"} {
			for _, after := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/after-open=%v", dialect, kind, after), func(t *testing.T) {
					f := newFixture(t, dialect, kind)
					db := &deletingBlobs{Store: f.blobs, st: f.st, userID: f.user.ID, after: after, docs: map[string]string{}}
					kept := f.upload(t, "kept: not deleted")
					for i := 0; i < 3; i++ {
						d := f.upload(t, strings.Repeat(fmt.Sprint(i), 300<<10))
						db.docs[d.ObjectKey] = d.ID
					}
					ctx := context.WithValue(context.Background(), testKey{}, t)
					r, err := integrity.Check(ctx, f.st, db, integrity.Options{Fix: true})
					if err != nil {
						t.Fatalf("check failed because documents were deleted while it ran: %v", err)
					}
					for _, p := range r.Problems {
						t.Errorf("problem reported for a deleted document: %s", p)
					}
					if len(db.docs) != 0 {
						t.Fatalf("not every document was opened: %v", db.docs)
					}
					if _, err := f.st.Document(context.Background(), f.user.ID, kept.ID); err != nil {
						t.Fatal(err)
					}
				})
			}
		}
	}
}
