package blob

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

// TestCopyHashingMatches: every byte arrives in order and the SHA-256 is that of the bytes,
// at chunk boundaries, with short reads, and with more chunks than buffers.
func TestCopyHashingMatches(t *testing.T) {
	for _, size := range []int{0, 1, copyChunk - 1, copyChunk, copyChunk + 1, copyChunk*copyBuffers*3 + 17} {
		src := make([]byte, size)
		for i := range src {
			src[i] = byte(i*7 + i>>11)
		}
		for name, r := range map[string]io.Reader{
			"whole": bytes.NewReader(src),
			"half":  iotest.HalfReader(bytes.NewReader(src)),
		} {
			var dst bytes.Buffer
			n, sum, err := copyHashing(&dst, r, true)
			if err != nil || n != int64(size) {
				t.Fatalf("%d bytes, %s reads: n=%d err=%v", size, name, n, err)
			}
			if !bytes.Equal(dst.Bytes(), src) {
				t.Fatalf("%d bytes, %s reads: copy differs", size, name)
			}
			if want := sha256.Sum256(src); !bytes.Equal(sum, want[:]) {
				t.Fatalf("%d bytes, %s reads: wrong SHA-256", size, name)
			}
			// Without hashing the copy is the same and no checksum is made.
			dst.Reset()
			n, sum, err = copyHashing(&dst, bytes.NewReader(src), false)
			if err != nil || n != int64(size) || !bytes.Equal(dst.Bytes(), src) || sum != nil {
				t.Fatalf("%d bytes unhashed: n=%d err=%v equal=%v sum=%x", size, n, err, bytes.Equal(dst.Bytes(), src), sum)
			}
		}
	}
}

// failingWriter takes ok bytes, then fails every write.
type failingWriter struct{ ok int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.ok {
		n := w.ok
		w.ok = 0
		return n, errDiskFull
	}
	w.ok -= len(p)
	return len(p), nil
}

// countingReader is an endless source that counts what was read from it.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	r.n += int64(len(p))
	return len(p), nil
}

// TestCopyHashingWriteErrorStops: a failing write ends the copy with the write's error and
// stops reading the (endless) body within the chunks already in flight.
func TestCopyHashingWriteErrorStops(t *testing.T) {
	r := &countingReader{}
	n, _, err := copyHashing(&failingWriter{ok: 2*copyChunk + 5}, r, true)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("err = %v, want the write's error", err)
	}
	if n != 2*copyChunk+5 {
		t.Fatalf("n = %d, want the bytes written before the failure", n)
	}
	if limit := int64((3 + copyBuffers + 1) * copyChunk); r.n > limit {
		t.Fatalf("read %d bytes after the write failed, more than the %d in flight", r.n, limit)
	}
}

// TestCopyHashingReadError: a body that fails midway ends the copy with its error, whether
// it fails after several chunks (the pipeline) or within the first (copied inline).
func TestCopyHashingReadError(t *testing.T) {
	errReset := errors.New("connection reset")
	for _, before := range []int{3*copyChunk + 1, 100, 0} {
		r := io.MultiReader(bytes.NewReader(make([]byte, before)), iotest.ErrReader(errReset))
		var dst bytes.Buffer
		n, _, err := copyHashing(&dst, r, true)
		if !errors.Is(err, errReset) {
			t.Fatalf("%d bytes, then a failure: err = %v, want the body's error", before, err)
		}
		if n != int64(before) || dst.Len() != before {
			t.Fatalf("%d bytes, then a failure: n = %d, %d written", before, n, dst.Len())
		}
	}
}

// TestCopyHashingOneChunkWriteError: a write failing within a one-chunk body ends the copy
// with the write's error and the bytes it took.
func TestCopyHashingOneChunkWriteError(t *testing.T) {
	n, _, err := copyHashing(&failingWriter{ok: 5}, bytes.NewReader(make([]byte, 100)), true)
	if !errors.Is(err, errDiskFull) || n != 5 {
		t.Fatalf("n = %d, err = %v; want 5 bytes and the write's error", n, err)
	}
}

// TestCopyHashingOneChunkInline: a body that fits in one chunk is copied and hashed on the
// caller's goroutine, without the pipeline's goroutines and channels (which allocate).
func TestCopyHashingOneChunkInline(t *testing.T) {
	src := bytes.Repeat([]byte("a letter from the bank "), 45) // about 1 KiB
	want := sha256.Sum256(src)
	r := bytes.NewReader(src)
	var dst bytes.Buffer
	dst.Grow(len(src))
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(src)
		dst.Reset()
		n, sum, err := copyHashing(&dst, r, true)
		if err != nil || n != int64(len(src)) || !bytes.Equal(sum, want[:]) || !bytes.Equal(dst.Bytes(), src) {
			t.Fatalf("n=%d err=%v sum=%x", n, err, sum)
		}
	})
	// The checksum's slice is the one allocation left.
	if allocs > 1 {
		t.Fatalf("a one-chunk copy made %.0f allocations, want at most 1 (no goroutines, no channels)", allocs)
	}
}

// BenchmarkCopyHashing: copyHashing into a discarding writer beside, in the same run, the
// baseline of a plain copy followed by a SHA-256 of the same bytes (two passes, one
// goroutine), for a one-chunk body (1 KiB) and a body of many chunks (8 MiB).
func BenchmarkCopyHashing(b *testing.B) {
	for _, size := range []int{1 << 10, 8 << 20} {
		src := make([]byte, size)
		for i := range src {
			src[i] = byte(i)
		}
		name := fmt.Sprintf("%dKiB", size>>10)
		b.Run(name+"/baseline-copy-then-sha256", func(b *testing.B) {
			b.SetBytes(int64(size))
			buf := make([]byte, copyChunk)
			for b.Loop() {
				if _, err := io.CopyBuffer(io.Discard, bytes.NewReader(src), buf); err != nil {
					b.Fatal(err)
				}
				sha256.Sum256(src)
			}
		})
		b.Run(name+"/copyHashing", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, _, err := copyHashing(io.Discard, bytes.NewReader(src), true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
