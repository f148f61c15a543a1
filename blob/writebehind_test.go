package blob

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteBehindKeepsBytes: a file written through writeBehind in uneven pieces holds
// exactly the bytes written, and writeback was started behind the writes, never more
// than a chunk behind and never past what was written.
func TestWriteBehindKeepsBytes(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src := make([]byte, 2*writeBehindChunk+12345)
	for i := range src {
		src[i] = byte(i * 31 >> 3)
	}
	w := &writeBehind{f: f}
	for off, step := 0, 1; off < len(src); step = step*3 + 1 {
		end := min(off+step, len(src))
		if n, err := w.Write(src[off:end]); err != nil || n != end-off {
			t.Fatalf("write at %d: %d %v", off, n, err)
		}
		off = end
		if w.flushed > w.off || w.off-w.flushed >= writeBehindChunk {
			t.Fatalf("at %d: writeback started to %d of %d written", off, w.flushed, w.off)
		}
	}
	if w.flushed == 0 || int64(len(src))-w.flushed >= writeBehindChunk {
		t.Fatalf("writeback started for %d bytes of %d", w.flushed, len(src))
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("file differs from what was written (%d of %d bytes, %v)", len(got), len(src), err)
	}
}
