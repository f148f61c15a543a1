package blob

import (
	"bytes"
	"crypto/sha256"
	"errors"
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

// TestCopyHashingReadError: a body that fails midway ends the copy with its error.
func TestCopyHashingReadError(t *testing.T) {
	errReset := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(make([]byte, 3*copyChunk+1)), iotest.ErrReader(errReset))
	var dst bytes.Buffer
	if _, _, err := copyHashing(&dst, r, true); !errors.Is(err, errReset) {
		t.Fatalf("err = %v, want the body's error", err)
	}
}
