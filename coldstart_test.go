package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// freeAddr is a loopback address nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `docuvault serve` on an empty data dir and returns once /readyz answers
// 200, with how long that took and a function that stops the server.
func startServe(t testing.TB, env ...string) (string, time.Duration, *testenv.SyncBuffer, func() int) {
	t.Helper()
	dir, addr := t.TempDir(), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &testenv.SyncBuffer{}
	done := make(chan int, 1)
	start := time.Now()
	go func() {
		done <- runContext(ctx, []string{"serve"}, &bytes.Buffer{}, stderr,
			envMap(append([]string{"DOCUVAULT_SERVER_DATA_DIR", dir, "DOCUVAULT_SERVER_LISTEN", addr}, env...)...))
	}()
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d before ready: %s", code, stderr.String())
		case <-time.After(time.Millisecond):
		}
	}
	took := time.Since(start)
	return addr, took, stderr, func() int { cancel(); return <-done }
}

// TestFirstLoginWaitsForBootstrap: the first admin is created while the server already
// answers, and a sign-in sent the moment /readyz says 200 waits for it instead of failing.
func TestFirstLoginWaitsForBootstrap(t *testing.T) {
	addr, _, stderr, stop := startServe(t, "DOCUVAULT_ADMIN_PASSWORD", "a long admin passphrase")
	resp, err := http.Post("http://"+addr+"/api/auth/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"a long admin passphrase"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("first login: %d; log %s", resp.StatusCode, stderr.String())
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// TestTooShortAdminPasswordStopsStart: a bad DOCUVAULT_ADMIN_PASSWORD still stops the start
// before anything listens.
func TestTooShortAdminPasswordStopsStart(t *testing.T) {
	var stderr bytes.Buffer
	code := runContext(context.Background(), []string{"serve"}, &bytes.Buffer{}, &stderr,
		envMap("DOCUVAULT_SERVER_DATA_DIR", t.TempDir(), "DOCUVAULT_SERVER_LISTEN", freeAddr(t), "DOCUVAULT_ADMIN_PASSWORD", "short"))
	if code == 0 || !strings.Contains(stderr.String(), "DOCUVAULT_ADMIN_PASSWORD") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// BenchmarkColdStart measures `serve` on an empty data dir until /readyz answers 200 (the
// process's own start-up, ~10 ms of package initialisation, is not included), beside a
// baseline of what any such start must do: create a SQLite file, write one transaction,
// listen and answer one HTTP request.
func BenchmarkColdStart(b *testing.B) {
	b.Run("serve", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			_, took, stderr, stop := startServe(b)
			total += took
			if code := stop(); code != 0 {
				b.Fatalf("exit %d: %s", code, stderr.String())
			}
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-ready")
	})
	b.Run("baseline", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			start := time.Now()
			st, err := store.Open(context.Background(), store.SQLite, filepath.Join(b.TempDir(), "x.db"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.DB().Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
				b.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var one int
				_ = st.DB().QueryRowContext(r.Context(), `SELECT 1`).Scan(&one)
				w.WriteHeader(200)
			})}
			go func() { _ = srv.Serve(ln) }()
			resp, err := http.Get("http://" + ln.Addr().String() + "/")
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			total += time.Since(start)
			_ = srv.Close()
			st.Close()
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-ready")
	})
}
