package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuvault/docuvault/server"
)

// TestSlowBodiesDoNotStarveHealth opens a thousand connections that each send the headers
// of a 100 kB login and half its body, then trickle a byte now and then, against the very
// http.Server main runs (with a 1 s body deadline). /healthz must answer within 1 s
// throughout, and the server must close every slow connection soon after the deadline.
func TestSlowBodiesDoNotStarveHealth(t *testing.T) {
	const (
		bodySize = 100_000
		deadline = time.Second
	)
	conns := 1000
	if raceDetector {
		conns = 200
	}
	e := newEnv(t, "sqlite", "local", func(o *server.Options) {
		o.Timeouts = server.Timeouts{Body: deadline, ReadHeader: deadline}
	})
	hs := e.srv.HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	addr := ln.Addr().String()

	head := fmt.Sprintf("POST /api/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, bodySize)
	half := `{"username":"alice","password":"` + strings.Repeat("x", bodySize/2)
	stop := make(chan struct{})
	closedAfter := make(chan time.Duration, conns)
	var open, peak atomic.Int64

	// /healthz is probed every 100 ms from before the first slow connection until the last
	// one is closed.
	type probe struct {
		took time.Duration
		err  error
	}
	probes := make(chan probe, 1000)
	probing := make(chan struct{})
	go func() {
		defer close(probes)
		health := &http.Client{Timeout: time.Second}
		for {
			t0 := time.Now()
			resp, err := health.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			probes <- probe{time.Since(t0), err}
			select {
			case <-probing:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	start := time.Now()
	dialers := make(chan int)
	dialErr := make(chan error, conns)
	var dwg sync.WaitGroup
	for d := 0; d < 16; d++ {
		dwg.Add(1)
		go func() {
			defer dwg.Done()
			for range dialers {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					dialErr <- err
					continue
				}
				t.Cleanup(func() { c.Close() })
				if _, err := io.WriteString(c, head+half); err != nil {
					dialErr <- err
					continue
				}
				sent := time.Now()
				peak.Store(max(peak.Load(), open.Add(1)))
				wg.Add(2)
				go func() { // trickle: a byte every 200 ms must not buy more time
					defer wg.Done()
					tick := time.NewTicker(200 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							if _, err := c.Write([]byte("x")); err != nil {
								return
							}
						}
					}
				}()
				go func() { // the server's answer (408), then its close
					defer wg.Done()
					_, _ = io.Copy(io.Discard, c)
					open.Add(-1)
					closedAfter <- time.Since(sent)
				}()
			}
		}()
	}
	for i := 0; i < conns; i++ {
		dialers <- i
	}
	close(dialers)
	dwg.Wait()
	close(dialErr)
	for err := range dialErr {
		t.Fatalf("slow connection: %v", err)
	}
	t.Logf("%d slow connections sent in %v", conns, time.Since(start))

	var slowest time.Duration
	limit := time.After(deadline + 5*time.Second)
	for i := 0; i < conns; i++ {
		select {
		case d := <-closedAfter:
			slowest = max(slowest, d)
		case <-limit:
			close(stop)
			t.Fatalf("%d of %d slow connections still open %v after their deadline", conns-i, conns, 5*time.Second)
		}
	}
	close(stop)
	wg.Wait()
	close(probing)
	var n int
	var worst time.Duration
	for p := range probes {
		n++
		worst = max(worst, p.took)
		if p.err != nil || p.took > time.Second {
			t.Errorf("/healthz during the attack: %v after %v", p.err, p.took)
		}
	}
	t.Logf("peak %d slow connections open at once; every one closed by the server, the last %v after its body started (deadline %v); /healthz answered %d probes, slowest %v",
		peak.Load(), slowest, deadline, n, worst)
	if slowest < deadline {
		t.Fatalf("a connection closed before its deadline (%v): the test does not measure the deadline", slowest)
	}
}

// TestSlowJSONBodyGets408 checks the answer a slow client gets: 408 with a JSON detail.
func TestSlowJSONBodyGets408(t *testing.T) {
	e := newEnv(t, "sqlite", "local", func(o *server.Options) {
		o.Timeouts = server.Timeouts{Body: 300 * time.Millisecond}
	})
	c, err := net.Dial("tcp", strings.TrimPrefix(e.ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\":")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), `"detail"`) {
		t.Fatalf("slow body: %d %s", resp.StatusCode, b)
	}
}
