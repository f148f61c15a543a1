package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
)

// TestPresignedPutBindsSize: a presigned PUT for 103 bytes is refused by MinIO itself for a
// 9 MiB body (and for 102 or 104 bytes); exactly 103 bytes go through.
func TestPresignedPutBindsSize(t *testing.T) {
	h := s3Harness(t)
	ctx := context.Background()
	key := "staging/u/test/" + t.Name()
	p, err := h.store.PresignPut(ctx, key, 103, "application/octet-stream", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{9 << 20, 102, 104, 0} {
		if code := h.put(t, p, make([]byte, n)); code < 400 || code >= 500 {
			t.Fatalf("PUT of %d bytes against a 103-byte URL: %d", n, code)
		}
		if _, err := h.store.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("object stored after a %d-byte PUT: %v", n, err)
		}
	}
	if code := h.put(t, p, bytes.Repeat([]byte("x"), 103)); code != 200 {
		t.Fatalf("PUT of 103 bytes: %d", code)
	}
	if info, err := h.store.Stat(ctx, key); err != nil || info.Size != 103 {
		t.Fatalf("stat: %+v %v", info, err)
	}
	_ = h.store.Delete(ctx, key)
}

// TestMoveAndList: Move is a server-side rename that is idempotent; List sees every object
// (never the local temp folder).
func TestMoveAndList(t *testing.T) {
	for name, mk := range map[string]func(*testing.T) harness{"local": localHarness, "minio": s3Harness} {
		t.Run(name, func(t *testing.T) {
			h := mk(t)
			ctx := context.Background()
			prefix := "mv-" + name + "-" + time.Now().Format("150405.000000") + "/"
			if _, err := h.store.Put(ctx, prefix+"staging/a", bytes.NewReader([]byte("abc")), 10, "text/plain"); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ { // the second move finds the work done
				info, err := h.store.Move(ctx, prefix+"staging/a", prefix+"final/a")
				if err != nil || info.Size != 3 {
					t.Fatalf("move %d: %+v %v", i, info, err)
				}
			}
			if _, err := h.store.Move(ctx, prefix+"staging/none", prefix+"final/none"); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("move of nothing: %v", err)
			}
			var keys []string
			if err := h.store.List(ctx, prefix, func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
				t.Fatal(err)
			}
			sort.Strings(keys)
			if len(keys) != 1 || keys[0] != prefix+"final/a" {
				t.Fatalf("listed %v", keys)
			}
			r, _, err := h.store.Open(ctx, prefix+"final/a")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r)
			r.Close()
			if string(b) != "abc" {
				t.Fatalf("moved bytes %q", b)
			}
			_ = h.store.Delete(ctx, prefix+"final/a")
		})
	}
}

// TestLocalDeleteWithFolderMissing: "not found" is success only while the folder is there.
func TestLocalDeleteWithFolderMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	l, err := blob.NewLocal(dir, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.Delete(ctx, "u/x/missing"); err != nil {
		t.Fatalf("missing object, healthy store: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(ctx, "u/x/missing"); !errors.Is(err, blob.ErrStoreMissing) {
		t.Fatalf("delete with the folder missing: %v", err)
	}
	if _, err := l.Stat(ctx, "u/x/missing"); !errors.Is(err, blob.ErrStoreMissing) {
		t.Fatalf("stat with the folder missing: %v", err)
	}
	if err := l.Ping(ctx); err == nil {
		t.Fatal("ping with the folder missing")
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := l.Ping(ctx); err != nil {
		t.Fatalf("ping after an empty folder came back: %v", err)
	}
}

// TestLocalMoveWithFolderMissing: a move into a store whose folder is gone reports the fault
// and does not create the folder again (a disk that is not mounted stays visible as such).
func TestLocalMoveWithFolderMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	l, err := blob.NewLocal(dir, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Put(ctx, "staging/u/x/a", bytes.NewReader([]byte("abc")), 3, ""); err != nil {
		t.Fatal(err)
	}
	if info, err := l.Move(ctx, "staging/u/x/a", "u/x/a"); err != nil || info.Size != 3 {
		t.Fatalf("move into a new folder: %+v %v", info, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Move(ctx, "staging/u/y/b", "u/y/b"); !errors.Is(err, blob.ErrStoreMissing) {
		t.Fatalf("move with the folder missing: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the missing folder was created again: %v", err)
	}
}
