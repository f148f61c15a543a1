package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/store"
)

// TestAddStoresChargesAndQueues: a file becomes an uploaded document with its bytes, its
// size charged to the quota, no reservation left, and one notice to the queue.
func TestAddStoresChargesAndQueues(t *testing.T) {
	forEachCombination(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "ada", 1000)
		body := "%PDF-1.4 letter from the bank"
		d, err := f.svc.Add(ctx, u.ID, ingest.File{Filename: "letter.pdf", Body: strings.NewReader(body), Size: -1})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != store.StatusUploaded || d.SizeBytes != int64(len(body)) || d.ContentType != "application/pdf" {
			t.Fatalf("document = %+v", d)
		}
		q, err := f.store.QuotaOf(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if q.UsedBytes != int64(len(body)) || q.PendingBytes != 0 {
			t.Fatalf("quota = %+v", q)
		}
		r, _, err := f.blobs.Open(ctx, d.ObjectKey)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if string(got) != body {
			t.Fatalf("stored %q", got)
		}
		if f.queue.count() != 1 {
			t.Fatalf("queue told %d times", f.queue.count())
		}
	})
}

// TestAddGuessesContentType: with no declared type, the name decides, then the bytes.
func TestAddGuessesContentType(t *testing.T) {
	f := newFixture(t, "sqlite", "local")
	u := f.user(t, "ada", 1<<20)
	for _, tc := range []struct{ name, body, want string }{
		{"scan.pdf", "%PDF-1.7", "application/pdf"},
		{"notes.txt", "hello", "text/plain; charset=utf-8"},
		{"photo", "\x89PNG\r\n\x1a\n0000", "image/png"},
		{"blob", "\x00\x01\x02", "application/octet-stream"},
		{"scan.TIFF", "II*\x00", "image/tiff"},
	} {
		d, err := f.svc.Add(context.Background(), u.ID, ingest.File{Filename: tc.name, Body: strings.NewReader(tc.body), Size: int64(len(tc.body))})
		if err != nil {
			t.Fatal(tc.name, err)
		}
		if d.ContentType != tc.want {
			t.Errorf("%s: content type %q, want %q", tc.name, d.ContentType, tc.want)
		}
	}
}

type failingReader struct{ after int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.after <= 0 {
		return 0, errors.New("input/output error")
	}
	n := min(len(p), r.after)
	r.after -= n
	return n, nil
}

// TestAddRefusals: each file turned down for what it is comes back as a typed refusal with
// a reason, and leaves nothing: no document, no object, no reservation, no charge.
func TestAddRefusals(t *testing.T) {
	forEachCombination(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		allowed := newFixtureOn(t, f.store, f.blobs, func(o *ingest.Options) { o.AllowedContentTypes = []string{"application/pdf", "image/*"} })
		u := f.user(t, "ada", 100)
		big := bytes.Repeat([]byte("x"), 101)
		cases := []struct {
			name string
			svc  *ingest.Service
			file ingest.File
			kind ingest.Kind
		}{
			{"path in the name", f.svc, ingest.File{Filename: "../etc/passwd", Body: strings.NewReader("x"), Size: 1}, ingest.KindInvalidName},
			{"NUL in the name", f.svc, ingest.File{Filename: "a\x00.pdf", Body: strings.NewReader("x"), Size: 1}, ingest.KindInvalidName},
			{"bidi override", f.svc, ingest.File{Filename: "fdp\u202e.exe", Body: strings.NewReader("x"), Size: 1}, ingest.KindInvalidName},
			{"empty name", f.svc, ingest.File{Filename: " ", Body: strings.NewReader("x"), Size: 1}, ingest.KindInvalidName},
			{"malformed type", f.svc, ingest.File{Filename: "a.pdf", ContentType: "pdf", Body: strings.NewReader("x"), Size: 1}, ingest.KindInvalidType},
			{"type not accepted", allowed.svc, ingest.File{Filename: "a.exe", ContentType: "application/x-msdownload", Body: strings.NewReader("x"), Size: 1}, ingest.KindTypeNotAccepted},
			{"guessed type not accepted", allowed.svc, ingest.File{Filename: "a.txt", Body: strings.NewReader("x"), Size: 1}, ingest.KindTypeNotAccepted},
			{"over quota, size known", f.svc, ingest.File{Filename: "big.pdf", Body: bytes.NewReader(big), Size: 101}, ingest.KindQuotaExceeded},
			{"over quota, size unknown", f.svc, ingest.File{Filename: "big.pdf", Body: bytes.NewReader(big), Size: -1}, ingest.KindQuotaExceeded},
			{"grew past its size", f.svc, ingest.File{Filename: "g.pdf", Body: bytes.NewReader(big[:50]), Size: 10}, ingest.KindTooLarge},
			{"unreadable", f.svc, ingest.File{Filename: "r.pdf", Body: &failingReader{after: 20}, Size: -1}, ingest.KindUnreadable},
		}
		for _, tc := range cases {
			_, err := tc.svc.Add(ctx, u.ID, tc.file)
			var r *ingest.Refusal
			if !errors.As(err, &r) || !ingest.IsRefusal(err) {
				t.Fatalf("%s: err = %v, want a refusal", tc.name, err)
			}
			if r.Kind != tc.kind || ingest.Reason(err) == "" {
				t.Fatalf("%s: refusal %s %q, want %s", tc.name, r.Kind, ingest.Reason(err), tc.kind)
			}
		}
		// Too large for the largest upload, though the quota has room.
		roomy := f.user(t, "bob", 10<<20)
		_, err := f.svc.Add(ctx, roomy.ID, ingest.File{Filename: "huge.pdf", Body: bytes.NewReader(make([]byte, 2<<20)), Size: -1})
		if r := (*ingest.Refusal)(nil); !errors.As(err, &r) || r.Kind != ingest.KindTooLarge {
			t.Fatalf("2 MiB past a 1 MiB maximum: %v", err)
		}
		for _, id := range []string{u.ID, roomy.ID} {
			q, err := f.store.QuotaOf(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if q.UsedBytes != 0 || q.PendingBytes != 0 {
				t.Fatalf("quota after refusals = %+v", q)
			}
			docs, _, err := f.store.ListDocuments(ctx, id, store.DocumentFilter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 0 {
				t.Fatalf("%d documents left after refusals", len(docs))
			}
		}
		if n := f.objectCount(t); n != 0 {
			t.Fatalf("%d objects left after refusals", n)
		}
		if f.queue.count() != 0 {
			t.Fatal("a refused file was queued")
		}
	})
}

// downBlobs is a blob store whose writes fail: a dependency, not the file, is at fault.
type downBlobs struct{ blob.Store }

func (downBlobs) Put(context.Context, string, io.Reader, int64, string) (blob.Info, error) {
	return blob.Info{}, errors.New("connection refused")
}

// TestAddBlobStoreDownIsNoRefusal: a failing blob store is "retry later", and the
// reservation is given back.
func TestAddBlobStoreDownIsNoRefusal(t *testing.T) {
	base := newFixture(t, "sqlite", "local")
	f := newFixtureOn(t, base.store, downBlobs{base.blobs})
	u := f.user(t, "ada", 1000)
	_, err := f.svc.Add(context.Background(), u.ID, ingest.File{Filename: "a.pdf", Body: strings.NewReader("abc"), Size: 3})
	if err == nil || ingest.IsRefusal(err) || ingest.Reason(err) != "" {
		t.Fatalf("err = %v, want a failed dependency", err)
	}
	q, _ := f.store.QuotaOf(context.Background(), u.ID)
	if q.PendingBytes != 0 {
		t.Fatalf("reservation kept: %+v", q)
	}
}
