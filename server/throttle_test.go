package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	neturl "net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// trustLoopback makes the test's own address a trusted proxy, so X-Forwarded-For can play
// clients at many addresses.
func trustLoopback(o *server.Options) { o.TrustedProxies = []string{"127.0.0.1/32", "::1/128"} }

// loginResult is what one login attempt got.
type loginResult struct {
	status     int
	retryAfter int
	err        error
}

// attemptLogin posts a login from hc (its cookie jar may hold a known-device cookie),
// claiming address ip through X-Forwarded-For when ip is not empty. Safe in goroutines.
func attemptLogin(hc *http.Client, url, username, password, ip string) loginResult {
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequest("POST", url+"/api/auth/login", bytes.NewReader(body))
	if err != nil {
		return loginResult{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return loginResult{err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	r := loginResult{status: resp.StatusCode}
	if v := resp.Header.Get("Retry-After"); v != "" {
		r.retryAfter, r.err = strconv.Atoi(v)
	}
	if r.status == http.StatusTooManyRequests && r.retryAfter <= 0 {
		r.err = errNoRetryAfter
	}
	return r
}

var errNoRetryAfter = io.ErrUnexpectedEOF // any sentinel: a 429 without a usable Retry-After

// signOut drops the browser's session cookie (a logout, or an expired session); a
// known-device cookie stays, as it does in a real browser.
func signOut(hc *http.Client, base string) {
	u, _ := neturl.Parse(base)
	hc.Jar.SetCookies(u, []*http.Cookie{{Name: "docuvault_session", Value: "", Path: "/", MaxAge: -1}})
}

func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// parallelLogins fires n wrong guesses for username at once (released together), spread
// round-robin over urls, from the address addr(i) ("" for the peer's own), and counts the
// statuses.
func parallelLogins(t *testing.T, urls []string, n int, username string, addr func(i int) string) map[int]int {
	t.Helper()
	hc := newBrowser()
	results := testenv.Together(n, func(i int) loginResult {
		return attemptLogin(hc, urls[i%len(urls)], username, "wrong guess "+strconv.Itoa(i), addr(i))
	})
	counts := map[int]int{}
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("attempt: %v", r.err)
		}
		counts[r.status]++
	}
	return counts
}

// peerAddress is parallelLogins' addr for guesses from the connection's own address.
func peerAddress(int) string { return "" }

// tally counts each status.
func tally(statuses []int) map[int]int {
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	return counts
}

// TestLoginThrottleParallel: 300 simultaneous wrong guesses from one address reach the
// password check only as often as the limit allows, and the right password is refused
// once the limit is reached (it used to log in at guess 290).
func TestLoginThrottleParallel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		counts := parallelLogins(t, []string{e.ts.URL}, 300, "alice", peerAddress)
		if counts[401] != 5 || counts[429] != 295 {
			t.Fatalf("300 parallel guesses: %v, want exactly 5 checked (401) and 295 refused (429)", counts)
		}
		r := attemptLogin(newBrowser(), e.ts.URL, "alice", testPassword, "")
		if r.status != 429 || r.retryAfter < 1 || r.retryAfter > 900 {
			t.Fatalf("right password after the limit: %d, Retry-After %d", r.status, r.retryAfter)
		}
		e.clock.Add(15*time.Minute + time.Second)
		e.login("alice", testPassword)
	})
}

// TestNoLockoutOfOwner: an attacker guessing alice's password from many addresses (and from
// hers) slows guessing down but cannot keep alice out: her known browser signs in at
// once, and a new browser at worst waits seconds, not a renewable 15-minute lock.
func TestNoLockoutOfOwner(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		const home = "198.51.100.7"
		laptop := newBrowser()
		if r := attemptLogin(laptop, e.ts.URL, "alice", testPassword, home); r.status != 200 {
			t.Fatalf("first login: %+v", r)
		}
		signOut(laptop, e.ts.URL)
		// The attack: 30 addresses, 6 guesses each, all at once; then 10 more from alice's
		// own address (a shared NAT).
		attack := func() (checked int) {
			var mu sync.Mutex
			var wg sync.WaitGroup
			for a := range 30 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					hc := newBrowser()
					for i := range 6 {
						r := attemptLogin(hc, e.ts.URL, "alice", "guess "+strconv.Itoa(i), "203.0.113."+strconv.Itoa(a+1))
						mu.Lock()
						if r.err != nil || (r.status != 401 && r.status != 429) {
							t.Errorf("attack attempt: %+v", r)
						}
						if r.status == 401 {
							checked++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			for i := range 10 {
				if r := attemptLogin(newBrowser(), e.ts.URL, "alice", "nat guess "+strconv.Itoa(i), home); r.status == 401 {
					checked++
				}
			}
			return checked
		}
		if n := attack(); n > 20 {
			t.Errorf("the attack had %d guesses checked; the per-user allowance is 20 before spacing", n)
		}
		if r := attemptLogin(laptop, e.ts.URL, "alice", testPassword, home); r.status != 200 {
			t.Fatalf("alice's known browser during the attack: %+v", r)
		}
		signOut(laptop, e.ts.URL)
		// A new browser at her address waits for the spacing (seconds), never for a lock.
		phone := newBrowser()
		r := attemptLogin(phone, e.ts.URL, "alice", testPassword, "192.0.2.44")
		if r.status == 429 {
			if r.retryAfter > 20 {
				t.Fatalf("new browser told to wait %d s", r.retryAfter)
			}
			e.clock.Add(time.Duration(r.retryAfter) * time.Second)
			r = attemptLogin(phone, e.ts.URL, "alice", testPassword, "192.0.2.44")
		}
		if r.status != 200 {
			t.Fatalf("alice from a new browser after the wait: %+v", r)
		}
		// The attack goes on for an hour of its own retries: the known browser is still fine.
		for range 2 {
			e.clock.Add(20 * time.Minute)
			attack()
			if r := attemptLogin(laptop, e.ts.URL, "alice", testPassword, home); r.status != 200 {
				t.Fatalf("alice's known browser as the attack continues: %+v", r)
			}
			signOut(laptop, e.ts.URL)
		}
		// The cookie is signed and bound to alice: forged, or for another username, it
		// exempts nothing (alice's bucket at her address is spent by the NAT guesses).
		forged := newBrowser()
		u, _ := neturl.Parse(e.ts.URL + "/api/auth/login")
		forged.Jar.SetCookies(u, []*http.Cookie{{Name: "docuvault_device", Value: "1.YWxpY2U.00ff.9999999999~forged", Path: "/api/auth/login"}})
		if r := attemptLogin(forged, e.ts.URL, "alice", testPassword, home); r.status != 429 {
			t.Fatalf("forged device cookie: %+v", r)
		}
		var last loginResult
		for i := range 6 {
			last = attemptLogin(laptop, e.ts.URL, "bob", "guess "+strconv.Itoa(i), home)
		}
		if last.status != 429 {
			t.Fatalf("alice's device guessing bob: %+v", last)
		}
	}, trustLoopback)
}

// replica is one server instance on a shared database.
type replica struct {
	url   string
	store *store.Store
}

// twoReplicas starts two servers, each with its own connection pool, on one database.
func twoReplicas(t *testing.T, dialect string, clk *clock) []replica {
	t.Helper()
	ctx := context.Background()
	dsn := testenv.DSN(t, dialect)
	blobDir := t.TempDir()
	var out []replica
	for i := range 2 {
		st, err := store.Open(ctx, dialect, dsn, store.WithClock(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if i == 0 {
			if err := st.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
		}
		blobs, err := blob.NewLocal(blobDir, []byte("test-upload-secret-0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(server.Options{Store: st, Blobs: blobs, Now: clk.Now, PasswordParams: cheap,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(ts.Close)
		out = append(out, replica{url: ts.URL, store: st})
	}
	return out
}

// TestThrottleSharedAcrossReplicas: guesses spread over two instances of the server on one
// database share one count.
func TestThrottleSharedAcrossReplicas(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			clk := &clock{t: time.Now().UTC()}
			reps := twoReplicas(t, d, clk)
			hash, _ := server.HashPassword(testPassword, cheap)
			if _, err := reps[0].store.CreateUser(context.Background(), store.NewUser{Username: "alice", PasswordHash: hash, Role: store.RoleUser, LimitBytes: 1000}); err != nil {
				t.Fatal(err)
			}
			counts := parallelLogins(t, []string{reps[0].url, reps[1].url}, 200, "alice", peerAddress)
			if counts[401] != 5 || counts[429] != 195 {
				t.Fatalf("200 guesses over two replicas: %v, want 5 checked in all", counts)
			}
			for _, r := range reps {
				if got := attemptLogin(newBrowser(), r.url, "alice", testPassword, ""); got.status != 429 {
					t.Fatalf("right password on %s after the shared limit: %+v", r.url, got)
				}
			}
		})
	}
}
