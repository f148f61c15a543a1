package intake_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// BenchmarkConsumeBesideOneShot drops 1,000 small files into a consume folder at once and
// times until all are documents, beside the same 1,000 uploaded through the one-shot API
// (POST /api/documents, four clients at once, as the consumer has four workers) in the
// same run. The settle time is 20 ms here; with the default 5 s it is added once per burst.
//
//	go test -run '^$' -bench ConsumeBesideOneShot -benchtime 1x ./intake/
func BenchmarkConsumeBesideOneShot(b *testing.B) {
	const n = 1000
	for _, dialect := range testenv.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			var apiTotal, consumeTotal time.Duration
			for range b.N {
				f := newBenchFixture(b, dialect)
				apiTotal += benchOneShot(b, f, n)
				consumeTotal += benchConsume(b, f, n)
			}
			api, consume := apiTotal.Seconds()/float64(b.N), consumeTotal.Seconds()/float64(b.N)
			b.ReportMetric(api, "api_s")
			b.ReportMetric(consume, "consume_s")
			b.ReportMetric(api/consume, "consume_speed_vs_api")
		})
	}
}

func newBenchFixture(b *testing.B, dialect string) *fixture {
	b.Helper()
	f := &fixture{dialect: dialect, dsn: testenv.DSN(b, dialect), blobDir: b.TempDir(), dir: b.TempDir()}
	ctx := context.Background()
	st, err := store.Open(ctx, dialect, f.dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.MigrateUp(ctx); err != nil {
		b.Fatal(err)
	}
	f.store = st
	return f
}

func benchOneShot(b *testing.B, f *fixture, n int) time.Duration {
	ctx := context.Background()
	bs := newLocalBlobs(b)
	u, err := f.store.CreateUser(ctx, store.NewUser{Username: "api", PasswordHash: "x", Role: store.RoleUser, LimitBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	secret := server.TokenPrefix + hex.EncodeToString(raw)
	sum := sha256.Sum256([]byte(secret))
	if _, err := f.store.CreateToken(ctx, u.ID, u.SessionEpoch, "bench", hex.EncodeToString(sum[:]), nil); err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Options{Store: f.store, Blobs: bs, Logger: quiet, MaxUploadsPerUser: 8})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	bodies := make([][]byte, n)
	types := make([]string, n)
	for i := range n {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		part, _ := w.CreateFormFile("file", fmt.Sprintf("scan-%04d.txt", i))
		fmt.Fprintf(part, "page %d of the burst", i)
		w.Close()
		bodies[i], types[i] = buf.Bytes(), w.FormDataContentType()
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/documents", bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", types[i])
				req.Header.Set("Authorization", "Bearer "+secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Error(err)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Errorf("upload %d: %d", i, resp.StatusCode)
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return time.Since(start)
}

func benchConsume(b *testing.B, f *fixture, n int) time.Duration {
	ctx := context.Background()
	bs := newLocalBlobs(b)
	u, err := f.store.CreateUser(ctx, store.NewUser{Username: "scanner", PasswordHash: "x", Role: store.RoleUser, LimitBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	c, err := intake.NewConsumer(intake.ConsumeOptions{Dir: f.dir, Store: f.store, Ingest: newIngest(f.store, bs), Logger: quiet,
		Settle: 20 * time.Millisecond, Rescan: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(rctx) }()
	defer func() { cancel(); <-done }()
	dir := filepath.Join(f.dir, "scanner")
	waitFor(b, "the user's folder", 10*time.Second, func() bool { _, err := os.Stat(dir); return err == nil })
	staging := b.TempDir() // written aside, then renamed in: "dropped at once"
	for i := range n {
		if err := os.WriteFile(filepath.Join(staging, fmt.Sprintf("scan-%04d.txt", i)), fmt.Appendf(nil, "page %d of the burst", i), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	for i := range n {
		name := fmt.Sprintf("scan-%04d.txt", i)
		if err := os.Rename(filepath.Join(staging, name), filepath.Join(dir, name)); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, "all documents", 5*time.Minute, func() bool {
		var k int
		_ = f.store.DB().QueryRow(`SELECT COUNT(*) FROM documents WHERE user_id = $1 AND status <> 'pending'`, u.ID).Scan(&k)
		return k >= n
	})
	return time.Since(start)
}

func newLocalBlobs(b *testing.B) *blob.Local {
	b.Helper()
	bs, err := blob.NewLocal(b.TempDir(), []byte("test-upload-secret-0123456789"))
	if err != nil {
		b.Fatal(err)
	}
	return bs
}
