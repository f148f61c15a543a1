package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
)

// stores builds each implementation; uploadVia sends a presigned PUT the way a client would.
type harness struct {
	store blob.Store
	put   func(t *testing.T, p blob.PresignedPut, body []byte) int
}

func localHarness(t *testing.T) harness {
	l, err := blob.NewLocal(t.TempDir(), []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := l.Receive(r.Context(), strings.TrimPrefix(r.URL.Path, "/api/blobs/"), r.Body, r.Header.Get("Content-Type"))
		switch {
		case err == nil:
			w.WriteHeader(http.StatusOK)
		case errors.Is(err, blob.ErrTooLarge):
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(srv.Close)
	return harness{store: l, put: func(t *testing.T, p blob.PresignedPut, body []byte) int {
		return sendPut(t, srv.URL+p.URL, p, body)
	}}
}

func s3Harness(t *testing.T) harness {
	s, err := blob.NewS3(context.Background(), testenv.MinIO(t))
	if err != nil {
		t.Fatal(err)
	}
	return harness{store: s, put: func(t *testing.T, p blob.PresignedPut, body []byte) int {
		return sendPut(t, p.URL, p, body)
	}}
}

func sendPut(t *testing.T, url string, p blob.PresignedPut, body []byte) int {
	t.Helper()
	return testenv.SendUpload(t, p.Method, url, p.Headers, body, p.Fields)
}

func TestConformance(t *testing.T) {
	for name, mk := range map[string]func(*testing.T) harness{"local": localHarness, "minio": s3Harness} {
		t.Run(name, func(t *testing.T) {
			h := mk(t)
			ctx := context.Background()
			s := h.store

			t.Run("PingAnswers", func(t *testing.T) {
				if err := s.Ping(ctx); err != nil {
					t.Fatalf("ping: %v", err)
				}
			})
			t.Run("StatMissing", func(t *testing.T) {
				if _, err := s.Stat(ctx, "u/missing/x"); !errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("stat of a missing key: %v, want ErrNotFound", err)
				}
				if _, _, err := s.Open(ctx, "u/missing/x"); !errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("open of a missing key: %v, want ErrNotFound", err)
				}
			})
			t.Run("PresignedPutThenReadBack", func(t *testing.T) {
				body := make([]byte, 300_000)
				_, _ = rand.Read(body)
				p, err := s.PresignPut(ctx, "u/a/doc1", int64(len(body)), "application/pdf", time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if !(p.Method == "PUT" && p.Headers["Content-Type"] == "application/pdf" ||
					p.Method == "POST" && p.Fields["Content-Type"] == "application/pdf") {
					t.Fatalf("presigned request: %+v", p)
				}
				if code := h.put(t, p, body); code != 200 {
					t.Fatalf("PUT status %d", code)
				}
				info, err := s.Stat(ctx, "u/a/doc1")
				if err != nil || info.Size != int64(len(body)) {
					t.Fatalf("stat: %+v %v", info, err)
				}
				r, _, err := s.Open(ctx, "u/a/doc1")
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if _, err := r.Seek(1000, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(got, body[1000:]) {
					t.Fatalf("range read differs (err %v, %d bytes)", err, len(got))
				}
			})
			t.Run("PutRefusesPastMax", func(t *testing.T) {
				_, err := s.Put(ctx, "u/a/big", bytes.NewReader(make([]byte, 2048)), 1024, "text/plain")
				if !errors.Is(err, blob.ErrTooLarge) {
					t.Fatalf("put past max: %v, want ErrTooLarge", err)
				}
				if _, err := s.Stat(ctx, "u/a/big"); !errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("a refused put left an object: %v", err)
				}
				info, err := s.Put(ctx, "u/a/exact", bytes.NewReader(make([]byte, 1024)), 1024, "text/plain")
				if err != nil || info.Size != 1024 {
					t.Fatalf("put of exactly max: %+v %v", info, err)
				}
			})
			t.Run("DeleteIsIdempotent", func(t *testing.T) {
				if _, err := s.Put(ctx, "u/a/gone", strings.NewReader("x"), 10, "text/plain"); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 2; i++ {
					if err := s.Delete(ctx, "u/a/gone"); err != nil {
						t.Fatalf("delete #%d: %v", i+1, err)
					}
				}
				if _, err := s.Stat(ctx, "u/a/gone"); !errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("deleted object still there: %v", err)
				}
			})
			if gp, ok := s.(blob.GetPresigner); ok {
				t.Run("PresignedGet", func(t *testing.T) {
					if _, err := s.Put(ctx, "u/a/dl", strings.NewReader("hello"), 10, "text/plain"); err != nil {
						t.Fatal(err)
					}
					u, err := gp.PresignGet(ctx, "u/a/dl", time.Minute, `attachment; filename="a.txt"`, "text/plain")
					if err != nil {
						t.Fatal(err)
					}
					resp, err := http.Get(u)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != 200 || string(b) != "hello" || resp.Header.Get("Content-Disposition") != `attachment; filename="a.txt"` {
						t.Fatalf("presigned GET: %d %q %q", resp.StatusCode, b, resp.Header.Get("Content-Disposition"))
					}
				})
			}
		})
	}
}

func TestLocalKeysValidated(t *testing.T) {
	l, err := blob.NewLocal(t.TempDir(), []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "../x", "a/../../x", "/etc/passwd", "a\x00b", "a//b", ".tmp/x", `a\..\b`} {
		if _, err := l.Put(context.Background(), key, strings.NewReader("x"), 10, ""); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("key %q: %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestLocalUploadToken(t *testing.T) {
	l, err := blob.NewLocal(t.TempDir(), []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	l.SetClock(func() time.Time { return now })
	p, err := l.PresignPut(context.Background(), "u/a/doc", 5, "text/plain", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimPrefix(p.URL, "/api/blobs/")
	ctx := context.Background()

	if _, err := l.Receive(ctx, token, strings.NewReader("123456"), ""); !errors.Is(err, blob.ErrTooLarge) {
		t.Fatalf("body past the declared size: %v", err)
	}
	tampered := []byte(token)
	tampered[3] ^= 1
	if _, err := l.Receive(ctx, string(tampered), strings.NewReader("12345"), ""); !errors.Is(err, blob.ErrBadToken) {
		t.Fatalf("tampered token: %v", err)
	}
	other, _ := blob.NewLocal(t.TempDir(), []byte("another-secret-another-secret-xx"))
	if _, _, err := other.VerifyToken(token); !errors.Is(err, blob.ErrBadToken) {
		t.Fatalf("token under another secret: %v", err)
	}
	if _, err := l.Receive(ctx, token, strings.NewReader("12345"), ""); err != nil {
		t.Fatalf("valid upload: %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := l.Receive(ctx, token, strings.NewReader("12345"), ""); !errors.Is(err, blob.ErrExpiredToken) {
		t.Fatalf("expired token: %v", err)
	}
}
