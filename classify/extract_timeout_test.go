package classify

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/store"
)

// timedOutObject is an 8 MiB text object whose second read is where the document's timeout
// fires; it counts the reads made after that and whether any came after Close.
type timedOutObject struct {
	expire          context.CancelFunc
	reads           atomic.Int64
	readsAfterLimit atomic.Int64
	readAfterClose  atomic.Bool
	closed          atomic.Bool
}

const timedOutSize = 8 << 20

func (o *timedOutObject) ReadAt(p []byte, off int64) (int, error) {
	if o.closed.Load() {
		o.readAfterClose.Store(true)
	}
	switch n := o.reads.Add(1); {
	case n == 2:
		o.expire()
	case n > 2:
		o.readsAfterLimit.Add(1)
	}
	if off >= timedOutSize {
		return 0, io.EOF
	}
	n := min(int64(len(p)), timedOutSize-off)
	for i := range p[:n] {
		p[i] = 'a'
	}
	if off+n == timedOutSize {
		return int(n), io.EOF
	}
	return int(n), nil
}

func (o *timedOutObject) Read([]byte) (int, error)       { return 0, errors.New("not used") }
func (o *timedOutObject) Seek(int64, int) (int64, error) { return 0, errors.New("not used") }
func (o *timedOutObject) Close() error                   { o.closed.Store(true); return nil }
func (o *timedOutObject) Open(context.Context, string) (io.ReadSeekCloser, blob.Info, error) {
	return o, blob.Info{Size: timedOutSize}, nil
}

// TestExtractionEndsAtTimeout: when a document's timeout passes in the middle of text
// extraction, the extraction stops reading at once and is over (object closed, no read after)
// by the time the worker moves on, instead of running on in a goroutine nobody waits for.
func TestExtractionEndsAtTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	obj := &timedOutObject{expire: cancel}
	p := New(Config{Limits: DefaultLimits, Logger: quiet}, nil, obj, nil)
	_, _, err := p.extract(ctx, store.Job{ObjectKey: "k", ContentType: "text/plain", Filename: "a.txt", SizeBytes: timedOutSize, SHA256: "known"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("extract: %v, want the timeout's error", err)
	}
	if n := obj.readsAfterLimit.Load(); n != 0 {
		t.Errorf("%d reads after the timeout", n)
	}
	if !obj.closed.Load() {
		t.Errorf("object still open when the worker moved on")
	}
	if obj.readAfterClose.Load() {
		t.Errorf("object read after it was closed")
	}
}

// TestExtractContextStopsReading: ExtractContext refuses reads once its context has ended,
// whatever the extractor.
func TestExtractContextStopsReading(t *testing.T) {
	for _, ct := range []string{"text/plain", "text/html"} {
		ctx, cancel := context.WithCancel(context.Background())
		obj := &timedOutObject{expire: cancel}
		if _, err := ExtractContext(ctx, obj, timedOutSize, ct, "x", DefaultLimits); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want context.Canceled", ct, err)
		}
		if n := obj.readsAfterLimit.Load(); n != 0 {
			t.Errorf("%s: %d reads after the context ended", ct, n)
		}
		cancel()
	}
}
