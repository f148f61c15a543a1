package server_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
)

const benchSize = 1 << 30 // 1 GiB

// pattern is an endless reader of constant bytes that allocates nothing.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

// heapPeak samples the heap in use until stop is called and returns the growth over the start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > base && m.HeapInuse-base > peak.Load() {
					peak.Store(m.HeapInuse - base)
				}
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// BenchmarkUploadLocal streams 1 GiB through the local store's signed PUT endpoint and, as the
// baseline in the same run, copies the same bytes to a plain file. Both report MB/s and the
// peak heap growth (which must not follow the file size).
func BenchmarkUploadLocal(b *testing.B) {
	b.Run("baseline-file-copy", func(b *testing.B) {
		dir := b.TempDir()
		b.SetBytes(benchSize)
		stop := heapPeak()
		for i := 0; i < b.N; i++ {
			f, err := os.Create(filepath.Join(dir, "copy"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(f, io.LimitReader(pattern{}, benchSize)); err != nil {
				b.Fatal(err)
			}
			f.Sync()
			f.Close()
		}
		b.ReportMetric(float64(stop()), "peak-heap-B")
	})
	b.Run("local-put-endpoint", func(b *testing.B) {
		e := newEnv(b, "sqlite", "local", func(o *server.Options) { o.MaxUploadBytes = 2 * benchSize })
		e.createUser("bench", "user", 1<<40)
		client := e.login("bench", testPassword)
		b.SetBytes(benchSize)
		stop := heapPeak()
		for i := 0; i < b.N; i++ {
			var tk uploadTicket
			client.call("POST", "/api/documents/upload-url", map[string]any{"filename": "big.bin", "size_bytes": benchSize}, 201, &tk)
			req, _ := http.NewRequest("PUT", tk.UploadURL, io.LimitReader(pattern{}, benchSize))
			req.ContentLength = benchSize
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("PUT: %v %v", err, resp)
			}
			resp.Body.Close()
			client.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)
			client.call("DELETE", "/api/documents/"+tk.DocumentID, nil, 204)
		}
		b.ReportMetric(float64(stop()), "peak-heap-B")
	})
}

// BenchmarkUploadMinIO sends 64 MiB through the three-step upload against MinIO (upload-url,
// presigned PUT straight to MinIO, confirm) beside a direct PUT of the same bytes with
// minio-go as the baseline.
func BenchmarkUploadMinIO(b *testing.B) {
	const size = 64 << 20
	cfg := testenv.MinIO(b)
	b.Run("baseline-direct-minio-put", func(b *testing.B) {
		s3, err := blob.NewS3(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			if _, err := s3.Put(context.Background(), "bench/direct", io.LimitReader(pattern{}, size), size, "application/octet-stream"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("three-step-presigned", func(b *testing.B) {
		e := newEnv(b, "sqlite", "minio")
		e.createUser("bench", "user", 1<<40)
		client := e.login("bench", testPassword)
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			var tk uploadTicket
			client.call("POST", "/api/documents/upload-url", map[string]any{"filename": "big.bin", "size_bytes": size}, 201, &tk)
			req, _ := http.NewRequest("PUT", tk.UploadURL, io.LimitReader(pattern{}, size))
			req.ContentLength = size
			for k, v := range tk.Headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("PUT: %v %v", err, resp)
			}
			resp.Body.Close()
			client.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)
			client.call("DELETE", "/api/documents/"+tk.DocumentID, nil, 204)
		}
	})
}
