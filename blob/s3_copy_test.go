package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
)

// refusingMinIO is the configured MinIO behind a proxy that answers server-side copies with
// the AccessDenied a single-drive MinIO gives a write into a folder its last object just
// left, while refuse(n) says so for the n-th copy. Everything else reaches MinIO.
func refusingMinIO(t *testing.T, refuse func(n int64) bool) (*blob.S3, *atomic.Int64) {
	t.Helper()
	cfg := testenv.MinIO(t)
	target, err := url.Parse("http://" + cfg.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var copies atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" {
			if n := copies.Add(1); refuse(n) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied.</Message><Key>%s</Key><BucketName>%s</BucketName><Resource>%s</Resource><RequestId>1</RequestId><HostId>1</HostId></Error>`,
					strings.TrimPrefix(r.URL.Path, "/"+cfg.Bucket+"/"), cfg.Bucket, r.URL.Path)
				return
			}
		}
		proxy.ServeHTTP(w, r) // the Host header stays the proxy's, which the request was signed for
	}))
	t.Cleanup(srv.Close)
	cfg.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	s, err := blob.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, &copies
}

func putObject(t *testing.T, s *blob.S3, key string, body []byte) {
	t.Helper()
	if _, err := s.Put(context.Background(), key, bytes.NewReader(body), int64(len(body)), "text/plain"); err != nil {
		t.Fatal(err)
	}
}

// assertPlaced checks that body is at key want and that key gone holds nothing.
func assertPlaced(t *testing.T, s *blob.S3, want, gone string, body []byte) {
	t.Helper()
	ctx := context.Background()
	rc, _, err := s.Open(ctx, want)
	if err != nil {
		t.Fatalf("%s: %v", want, err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("%s holds %q (%v), want %q", want, got, err, body)
	}
	if _, err := s.Stat(ctx, gone); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("%s is still there: %v", gone, err)
	}
}

// TestS3MoveSendsARefusedCopyAgain: a move whose copy MinIO refuses with AccessDenied (its
// single-drive folder race) is sent again and lands; a refusal that lasts ends the move with
// the store's error after three copies and leaves the source in place; a missing source is
// not retried; a request that ends while the move waits stops it there.
func TestS3MoveSendsARefusedCopyAgain(t *testing.T) {
	ctx := context.Background()
	body := []byte("the bytes of a confirmed upload")

	t.Run("transient", func(t *testing.T) {
		s, copies := refusingMinIO(t, func(n int64) bool { return n == 1 })
		putObject(t, s, "staging/u/a/1", body)
		info, err := s.Move(ctx, "staging/u/a/1", "u/a/1")
		if err != nil || info.Size != int64(len(body)) || copies.Load() != 2 {
			t.Fatalf("move: %+v %v after %d copies", info, err, copies.Load())
		}
		assertPlaced(t, s, "u/a/1", "staging/u/a/1", body)
	})

	t.Run("lasting", func(t *testing.T) {
		s, copies := refusingMinIO(t, func(int64) bool { return true })
		putObject(t, s, "staging/u/a/2", body)
		_, err := s.Move(ctx, "staging/u/a/2", "u/a/2")
		if err == nil || errors.Is(err, blob.ErrNotFound) || !strings.Contains(err.Error(), "Access Denied") || copies.Load() != 3 {
			t.Fatalf("move: %v after %d copies", err, copies.Load())
		}
		assertPlaced(t, s, "staging/u/a/2", "u/a/2", body) // the source stays, nothing arrives
	})

	t.Run("missing source", func(t *testing.T) {
		s, copies := refusingMinIO(t, func(int64) bool { return false })
		if _, err := s.Move(ctx, "staging/u/a/none", "u/a/none"); !errors.Is(err, blob.ErrNotFound) || copies.Load() != 1 {
			t.Fatalf("move of nothing: %v after %d copies", err, copies.Load())
		}
	})

	t.Run("request ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s, copies := refusingMinIO(t, func(int64) bool { cancel(); return true })
		putObject(t, s, "staging/u/a/3", body)
		if _, err := s.Move(ctx, "staging/u/a/3", "u/a/3"); err == nil || copies.Load() != 1 {
			t.Fatalf("move after its request ended: %v after %d copies", err, copies.Load())
		}
	})
}
