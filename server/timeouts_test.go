package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
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
		conns    = 1000
		bodySize = 100_000
		deadline = time.Second
	)
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
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conns; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, head+half); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		sent := time.Now()
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
			closedAfter <- time.Since(sent)
		}()
	}
	t.Logf("%d slow connections open after %v", conns, time.Since(start))

	health := &http.Client{Timeout: time.Second}
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		resp, err := health.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("/healthz during the attack: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || time.Since(t0) > time.Second {
			t.Fatalf("/healthz during the attack: %d after %v", resp.StatusCode, time.Since(t0))
		}
		time.Sleep(100 * time.Millisecond)
	}

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
	t.Logf("every slow connection closed by the server; the last %v after its body started (deadline %v)", slowest, deadline)
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
