package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// throttleRows counts the login throttle's buckets.
func throttleRows(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.store.DB().QueryRow(`SELECT COUNT(*) FROM login_throttle`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSprayedUsernamesDoNotGrowThrottle: one address spraying random usernames is refused
// after the address limit, and a refused attempt creates no bucket: the table grows with
// the attempts that reach the password check (three buckets each) and one bucket per
// address, not with every request (it used to gain a row per refused request).
func TestSprayedUsernamesDoNotGrowThrottle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		const n = 300
		hc := newBrowser()
		results := make([]loginResult, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				results[i] = attemptLogin(hc, e.ts.URL, "sprayed-"+strconv.Itoa(i), "guess", "")
			}()
		}
		wg.Wait()
		checked := 0
		for _, r := range results {
			switch {
			case r.err != nil:
				t.Fatal(r.err)
			case r.status == 401:
				checked++
			case r.status != 429:
				t.Fatalf("sprayed attempt: %+v", r)
			}
		}
		if checked != 20 {
			t.Fatalf("%d sprayed attempts reached the password check, want the address limit 20", checked)
		}
		if rows := throttleRows(t, e); rows > 3*checked+1 {
			t.Fatalf("%d sprayed usernames (%d checked) left %d throttle rows, want at most %d", n, checked, rows, 3*checked+1)
		}
	})
}

// TestTokenCreatedAcrossPasswordChangeIsRevoked: a token creation already in flight
// (authenticated, its body still arriving) when the owner changes the password must not
// leave a token that outlives the change. The request's body is held back until the
// server has authenticated it and started reading (the 100 Continue), then the password is
// changed, then the body is sent.
func TestTokenCreatedAcrossPasswordChangeIsRevoked(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		for _, via := range []string{"token", "session"} {
			t.Run(via, func(t *testing.T) {
				name := "owner-" + via
				owner := e.member(name)
				thief := e.login(name, testPassword) // a stolen session...
				if via == "token" {
					thief = tokenOf(e, thief) // ...or a stolen API token
				}
				pr, pw := io.Pipe()
				req, err := http.NewRequest("POST", e.ts.URL+"/api/auth/me/tokens", pr)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Expect", "100-continue")
				if thief.csrf != "" {
					req.Header.Set("X-CSRF-Token", thief.csrf)
				}
				if thief.bearer != "" {
					req.Header.Set("Authorization", "Bearer "+thief.bearer)
				}
				reading := make(chan struct{})
				req = req.WithContext(httptrace.WithClientTrace(context.Background(),
					&httptrace.ClientTrace{Got100Continue: func() { close(reading) }}))
				hc := &http.Client{Jar: thief.hc.Jar, Transport: &http.Transport{ExpectContinueTimeout: 1 << 40}}
				type answer struct {
					status int
					body   []byte
					err    error
				}
				done := make(chan answer, 1)
				go func() {
					resp, err := hc.Do(req)
					if err != nil {
						done <- answer{err: err}
						return
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					done <- answer{status: resp.StatusCode, body: b}
				}()
				<-reading
				owner.call("POST", "/api/auth/me/password",
					map[string]string{"current_password": testPassword, "new_password": "a brand new passphrase"}, 204)
				body, _ := json.Marshal(map[string]string{"name": "kept after the change"})
				go func() { _, _ = io.Copy(pw, bytes.NewReader(body)); pw.Close() }()
				a := <-done
				if a.err != nil {
					t.Fatal(a.err)
				}
				var created struct {
					Token string `json:"token"`
				}
				_ = json.Unmarshal(a.body, &created)
				if created.Token != "" {
					c := e.anonymous()
					c.bearer = created.Token
					if st := c.status("GET", "/api/auth/me", nil); st != 401 {
						t.Fatalf("a token created while the password changed works after it: GET /api/auth/me %d", st)
					}
				}
				if a.status != 401 {
					t.Fatalf("token creation across a password change: %d %s, want 401", a.status, a.body)
				}
				if _, ok := detail(t, a.body).(string); !ok {
					t.Fatalf("401 without a detail: %s", a.body)
				}
				toks := owner.call("GET", "/api/auth/me/tokens", nil, 200)
				if string(bytes.TrimSpace(toks)) != "[]" {
					t.Fatalf("tokens after the change: %s", toks)
				}
				_ = store.RoleUser
			})
		}
	})
}
