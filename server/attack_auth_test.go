package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/docuvault/docuvault/internal/testenv"
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
				release := heldRequest(t, thief, "POST", "/api/auth/me/tokens", map[string]string{"name": "kept after the change"})
				owner.call("POST", "/api/auth/me/password",
					map[string]string{"current_password": testPassword, "new_password": "a brand new passphrase"}, 204)
				status, answer := release()
				var created struct {
					Token string `json:"token"`
				}
				_ = json.Unmarshal(answer, &created)
				if created.Token != "" {
					c := e.anonymous()
					c.bearer = created.Token
					if st := c.status("GET", "/api/auth/me", nil); st != 401 {
						t.Fatalf("a token created while the password changed works after it: GET /api/auth/me %d", st)
					}
				}
				if status != 401 {
					t.Fatalf("token creation across a password change: %d %s, want 401", status, answer)
				}
				if _, ok := detail(t, answer).(string); !ok {
					t.Fatalf("401 without a detail: %s", answer)
				}
				toks := owner.call("GET", "/api/auth/me/tokens", nil, 200)
				if string(bytes.TrimSpace(toks)) != "[]" {
					t.Fatalf("tokens after the change: %s", toks)
				}
			})
		}
	})
}

// TestRotatingAddressesShareOneBudget: guesses from many addresses at once get no more
// checks than the limits allow: every address of one IPv6 /64 counts as one client, and
// IPv4 addresses behind a trusted proxy share the username-wide allowance.
func TestRotatingAddressesShareOneBudget(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		e.createUser("bob", store.RoleUser, 1000)
		guess := func(user string, addr func(i int) string, n int) map[int]int {
			return parallelLogins(t, []string{e.ts.URL}, n, user, addr)
		}
		v6 := guess("alice", func(i int) string { return "2001:db8:1:2:" + strconv.FormatInt(int64(i+1), 16) + "::7" }, 60)
		if v6[401] != 5 || v6[429] != 55 {
			t.Fatalf("60 guesses from one /64: %v, want 5 checked", v6)
		}
		v4 := guess("bob", func(i int) string { return "198.18." + strconv.Itoa(i/200) + "." + strconv.Itoa(i%200+1) }, 120)
		if v4[401] != 20 || v4[429] != 100 {
			t.Fatalf("120 guesses from 120 addresses: %v, want the username-wide 20 checked", v4)
		}
	}, trustLoopback)
}

// TestPasswordRechecksThrottledInParallel: a stolen session firing wrong passwords at the
// password change, 2FA-off and backup-code routes at once gets 5 checks in all, and the
// right password is then refused too.
func TestPasswordRechecksThrottledInParallel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		paths := []string{"/api/auth/me/password", "/api/auth/me/totp/disable", "/api/auth/me/backup-codes"}
		const n = 60
		counts := tally(testenv.Together(n, func(i int) int {
			guess := "wrong guess " + strconv.Itoa(i)
			body := map[string]string{"password": guess}
			if i%3 == 0 {
				body = map[string]string{"current_password": guess, "new_password": "a brand new password"}
			}
			return c.status("POST", paths[i%3], body)
		}))
		if counts[403] != 5 || counts[429] != n-5 {
			t.Fatalf("%d parallel wrong re-checks: %v, want 5 checked (403)", n, counts)
		}
		if st := c.status("POST", paths[0], map[string]string{"current_password": testPassword, "new_password": "a brand new password"}); st != 429 {
			t.Fatalf("right password after the limit: %d", st)
		}
	})
}

// parallelSecondFactor fires n logins with the right password and otp at once, each from
// its own address, and counts the statuses.
func parallelSecondFactor(t *testing.T, e *env, username, otp string, n int) map[int]int {
	t.Helper()
	return tally(testenv.Together(n, func(i int) int {
		resp := e.anonymous().request("POST", "/api/auth/login",
			map[string]string{"username": username, "password": testPassword, "otp": otp},
			"X-Forwarded-For", "192.0.2."+strconv.Itoa(i+1))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}))
}

// TestSecondFactorSingleUseInParallel: logins sent at once with the same TOTP code, or the
// same backup code, let exactly one through; afterwards the code is spent.
func TestSecondFactorSingleUseInParallel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := e.member("alice")
		secret, backups := enableTOTP(t, e, c)
		e.clock.Add(30 * time.Second) // the enabling code's step is spent
		code, err := totp.GenerateCode(secret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		// 8 + 8 + 3 attempts stay within the username-wide allowance (20 an hour): every
		// refusal here is the code's.
		if got := parallelSecondFactor(t, e, "alice", code, 8); got[200] != 1 || got[401] != 7 {
			t.Fatalf("8 parallel logins with one TOTP code: %v, want exactly one 200", got)
		}
		if got := parallelSecondFactor(t, e, "alice", backups[0], 8); got[200] != 1 || got[401] != 7 {
			t.Fatalf("8 parallel logins with one backup code: %v, want exactly one 200", got)
		}
		// Spent: the same backup code, in another spelling, and the old TOTP code fail.
		for _, otp := range []string{backups[0], strings.ToUpper(strings.ReplaceAll(backups[0], "-", " ")), code} {
			if got := parallelSecondFactor(t, e, "alice", otp, 1); got[401] != 1 {
				t.Fatalf("spent code %q: %v", otp, got)
			}
		}
	}, trustLoopback)
}

// TestSessionFixationAndRelogin: a session cookie planted before login never becomes the
// signed-in session, and a second login in the same browser ends the first session.
func TestSessionFixationAndRelogin(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		victim := e.anonymous()
		base, _ := neturl.Parse(e.ts.URL)
		const planted = "attacker-chosen-session-token-0123456789"
		victim.hc.Jar.SetCookies(base, []*http.Cookie{{Name: "docuvault_session", Value: planted, Path: "/"}})
		var out struct {
			CSRFToken string `json:"csrf_token"`
		}
		victim.call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 200, &out)
		var after string
		for _, ck := range victim.hc.Jar.Cookies(base) {
			if ck.Name == "docuvault_session" {
				after = ck.Value
			}
		}
		if after == "" || after == planted {
			t.Fatalf("session cookie after login %q (planted %q)", after, planted)
		}
		attacker := e.anonymous()
		attacker.hc.Jar.SetCookies(base, []*http.Cookie{{Name: "docuvault_session", Value: planted, Path: "/"}})
		if st := attacker.status("GET", "/api/auth/me", nil); st != 401 {
			t.Fatalf("planted cookie after the victim's login: %d", st)
		}
		// A second login in the same browser gets yet another token: the first is dead.
		victim.csrf = out.CSRFToken
		victim.call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 200)
		old := e.anonymous()
		old.hc.Jar.SetCookies(base, []*http.Cookie{{Name: "docuvault_session", Value: after, Path: "/"}})
		if st := old.status("GET", "/api/auth/me", nil); st != 401 {
			t.Fatalf("the session before a re-login still works: %d", st)
		}
	})
}

// TestCredentialsEndOnResetAndDeactivation: after an admin reset or a deactivation, the
// user's sessions and API tokens answer 401, and reactivating the account brings none of
// them back; a deactivated user's right password gets the wrong password's answer.
func TestCredentialsEndOnResetAndDeactivation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		root := e.admin("root")
		for _, action := range []string{"reset", "deactivate"} {
			name := "victim-" + action
			sess := e.member(name)
			tok := tokenOf(e, e.login(name, testPassword))
			switch action {
			case "reset":
				root.call("POST", "/api/admin/users/"+sess.user.ID+"/reset-password", nil, 200)
			case "deactivate":
				root.call("PATCH", "/api/admin/users/"+sess.user.ID, map[string]any{"is_active": false}, 200)
				right := e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": name, "password": testPassword}, 401)
				wrong := e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": name, "password": "not the password"}, 401)
				if string(right) != string(wrong) {
					t.Fatalf("deactivated: right password %s, wrong %s", right, wrong)
				}
				root.call("PATCH", "/api/admin/users/"+sess.user.ID, map[string]any{"is_active": true}, 200)
			}
			for via, c := range map[string]*client{"session": sess, "token": tok} {
				if st := c.status("GET", "/api/auth/me", nil); st != 401 {
					t.Errorf("%s: the %s still works: %d", action, via, st)
				}
				if st := c.status("POST", "/api/auth/me/tokens", map[string]string{"name": "again"}); st != 401 {
					t.Errorf("%s: the %s can still create tokens: %d", action, via, st)
				}
			}
		}
	})
}

// TestCSRFOnEveryUnsafeRoute: every POST, PUT, PATCH and DELETE a session cookie can reach
// is refused with 403 and changes nothing when X-CSRF-Token is missing, wrong, or the token
// of another session (of the same user, and of another user); the session lives on.
func TestCSRFOnEveryUnsafeRoute(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		member := e.member("alice")
		admin := e.admin("root")
		otherSameUser := e.login("alice", testPassword)
		otherUser := e.member("bob")
		doc := uploadBytes(t, member, "f.txt", "text/plain", []byte("x"))
		var topic struct{ ID string }
		member.call("POST", "/api/topics", map[string]string{"name": "tax"}, 201, &topic)
		before := fingerprint(t, e)
		tested := 0
		for _, r := range e.srv.Echo().Routes() {
			switch r.Method {
			case "POST", "PUT", "PATCH", "DELETE":
			default:
				continue
			}
			if !strings.HasPrefix(r.Path, "/api/") || r.Path == "/api/auth/login" || r.Path == "/api/blobs/:token" || r.Path == "/api/*" {
				continue
			}
			c := member
			id := doc
			switch {
			case strings.HasPrefix(r.Path, "/api/admin/"):
				c, id = admin, member.user.ID
			case strings.HasPrefix(r.Path, "/api/topics/"):
				id = topic.ID
			}
			path := strings.ReplaceAll(r.Path, ":id", id)
			for name, tok := range map[string]string{"missing": "", "wrong": "not-the-token",
				"another session of the same user": otherSameUser.csrf, "another user's session": otherUser.csrf} {
				saved := c.csrf
				c.csrf = ""
				var headers []string
				if tok != "" {
					headers = []string{"X-CSRF-Token", tok}
				}
				resp := c.request(r.Method, path, map[string]any{}, headers...)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				c.csrf = saved
				if resp.StatusCode != 403 || detail(t, b) != "CSRF token missing or invalid" {
					t.Errorf("%s %s with the CSRF token %s: %d %s", r.Method, r.Path, name, resp.StatusCode, b)
				}
			}
			tested++
		}
		if tested < 20 {
			t.Fatalf("only %d unsafe routes found", tested)
		}
		if after := fingerprint(t, e); after != before {
			t.Errorf("refused requests changed data:\nbefore %s\nafter  %s", before, after)
		}
		member.call("GET", "/api/auth/me", nil, 200)
		admin.call("GET", "/api/auth/me", nil, 200)
	})
}

// TestLoginCSRFByForm: a cross-site HTML form can post a JSON-looking body as text/plain
// (or urlencoded, or multipart) without a preflight, and would sign the victim's browser
// in to the attacker's account (login CSRF: the victim's uploads then land there). Login
// takes only application/json, which a cross-site page cannot send without CORS.
func TestLoginCSRFByForm(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("mallory", store.RoleUser, 1000)
		// <form enctype="text/plain"><input name='{"username":"mallory","password":"…","otp":"' value='"}'>
		formBody := `{"username":"mallory","password":"` + testPassword + `","otp":"="}"}`
		formBody = formBody[:len(formBody)-2]
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
			victim := e.anonymous()
			req, _ := http.NewRequest("POST", e.ts.URL+"/api/auth/login", strings.NewReader(formBody))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := victim.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Errorf("login posted as %q: %d %s, want 415", ct, resp.StatusCode, b)
			} else if d, _ := detail(t, b).(string); d == "" {
				t.Errorf("415 without a detail: %s", b)
			}
			if st := victim.status("GET", "/api/auth/me", nil); st != 401 {
				t.Errorf("login posted as %q signed the browser in: %d", ct, st)
			}
		}
		c := e.anonymous()
		resp := c.request("POST", "/api/auth/login", formBody, "Content-Type", "application/json; charset=utf-8")
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("JSON login with a charset: %d", resp.StatusCode)
		}
	})
}

// TestThrottledLoginsWriteNoRows: a refused (429) login writes nothing: neither a throttle
// bucket nor an audit entry (the audit log is never pruned, so one row per refused request
// let anyone fill the disk with 1 KiB usernames at the request rate). Refusals show in the
// request metrics (docuvault_http_requests_total, status 429).
func TestThrottledLoginsWriteNoRows(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		count := func() (n int) {
			if err := e.store.DB().QueryRow(`SELECT COUNT(*) FROM audit_log`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n + throttleRows(t, e)
		}
		long := strings.Repeat("x", 1000)
		for i := range 20 {
			attemptLogin(http.DefaultClient, e.ts.URL, long+strconv.Itoa(i), "guess", "")
		}
		before := count()
		counts := parallelLogins(t, []string{e.ts.URL}, 200, long, peerAddress)
		if counts[429] != 200 {
			t.Fatalf("200 logins after the address limit: %v, want all 429", counts)
		}
		if after := count(); after != before {
			t.Fatalf("200 refused logins wrote %d rows", after-before)
		}
	})
}

// TestEnormousJSON: deep nesting, strings and objects of up to a mebibyte, many fields and
// bodies past the limit get a 4xx with a JSON detail on every kind of route, change
// nothing, and the server goes on answering.
func TestEnormousJSON(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		member := e.member("alice")
		admin := e.admin("root")
		doc := uploadBytes(t, member, "f.txt", "text/plain", []byte("x"))
		const mib = 1 << 20
		many := func(n int) string {
			var b strings.Builder
			b.WriteString("{")
			for i := range n {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(`"f` + strconv.Itoa(i) + `":1`)
			}
			return b.String() + "}"
		}
		bodies := map[string]string{
			"deep nesting":         `{"name":` + strings.Repeat("[", mib-20) + `}`,
			"deep nesting, closed": `{"name":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`,
			"deep objects":         strings.Repeat(`{"a":`, 150000) + "1" + strings.Repeat("}", 150000),
			"1 MiB string":         `{"name":"` + strings.Repeat("x", mib-100) + `"}`,
			"1 MiB escapes":        `{"name":"` + strings.Repeat(`\u00e9`, (mib-100)/6) + `"}`,
			"many fields":          many(60000),
			"past the limit":       `{"name":"` + strings.Repeat("x", mib+10) + `"}`,
			"huge number":          `{"size_bytes":1e999,"filename":"a.txt"}`,
			"NUL in a field name":  `{"na\u0000me":"x"}`,
			"not an object":        `"` + strings.Repeat("x", 1000) + `"`,
		}
		routes := []struct {
			c            *client
			method, path string
		}{
			{e.anonymous(), "POST", "/api/auth/login"},
			{member, "POST", "/api/topics"},
			{member, "PATCH", "/api/documents/" + doc},
			{member, "POST", "/api/documents/upload-url"},
			{member, "POST", "/api/auth/me/tokens"},
			{member, "POST", "/api/auth/me/password"},
			{admin, "POST", "/api/admin/users"},
			{admin, "PATCH", "/api/admin/users/" + member.user.ID},
		}
		before := fingerprint(t, e)
		for _, r := range routes {
			for name, body := range bodies {
				resp := r.c.request(r.method, r.path, body)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var out struct {
					Detail any `json:"detail"`
				}
				if resp.StatusCode < 400 || resp.StatusCode > 499 || json.Unmarshal(b, &out) != nil || out.Detail == nil {
					t.Errorf("%s %s with %s: %d %.200s", r.method, r.path, name, resp.StatusCode, b)
				}
			}
		}
		if after := fingerprint(t, e); after != before {
			t.Errorf("refused bodies changed data:\nbefore %s\nafter  %s", before, after)
		}
		member.call("GET", "/api/auth/me", nil, 200)
	})
}

// TestClientGoneMidBody: a client that stops sending halfway through a JSON body (its side
// of the connection closed) gets a 4xx, never a 2xx built from half a body, and nothing
// is created; the server goes on answering.
func TestClientGoneMidBody(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) { clientGoneMidBody(t, e) })
}

func clientGoneMidBody(t *testing.T, e *env) {
	{
		member := e.member("alice")
		base, _ := neturl.Parse(e.ts.URL)
		var cookie string
		for _, ck := range member.hc.Jar.Cookies(base) {
			cookie += ck.Name + "=" + ck.Value + "; "
		}
		before := fingerprint(t, e)
		for _, r := range []struct{ path, body string }{
			{"/api/topics", `{"name":"half a topic","description":"` + strings.Repeat("d", 400) + `"}`},
			{"/api/auth/me/tokens", `{"name":"half a token"}`},
			{"/api/auth/login", `{"username":"alice","password":"` + testPassword + `"}`},
		} {
			conn, err := net.Dial("tcp", base.Host)
			if err != nil {
				t.Fatal(err)
			}
			head := "POST " + r.path + " HTTP/1.1\r\nHost: " + base.Host + "\r\nContent-Type: application/json\r\n" +
				"Content-Length: " + strconv.Itoa(len(r.body)) + "\r\nCookie: " + cookie + "\r\nX-CSRF-Token: " + member.csrf + "\r\n\r\n"
			// Everything but the closing brace: a complete JSON object is never received.
			if _, err := io.WriteString(conn, head+r.body[:len(r.body)-1]); err != nil {
				t.Fatal(err)
			}
			conn.(*net.TCPConn).CloseWrite()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode < 400 || resp.StatusCode > 499 {
					t.Errorf("%s with the client gone mid-body: %d %s", r.path, resp.StatusCode, b)
				}
			}
			conn.Close()
		}
		if after := fingerprint(t, e); after != before {
			t.Errorf("half-sent bodies changed data:\nbefore %s\nafter  %s", before, after)
		}
		member.call("GET", "/api/auth/me", nil, 200)
	}
}

// TestOtherUsersTokenIDs: another user's API token id is unknown (404) to DELETE, and the
// token keeps working; an admin's bearer token gets 403 on document routes and 404 on
// unknown API paths, like an admin's session.
func TestOtherUsersTokenIDs(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		bob := e.member("bob")
		var created struct{ ID, Token string }
		bob.call("POST", "/api/auth/me/tokens", map[string]string{"name": "bob's script"}, 201, &created)
		b := alice.call("DELETE", "/api/auth/me/tokens/"+created.ID, nil, 404)
		if detail(t, b) != "not found" {
			t.Fatalf("detail %s", b)
		}
		script := e.anonymous()
		script.bearer = created.Token
		script.call("GET", "/api/auth/me", nil, 200)
		if list := alice.call("GET", "/api/auth/me/tokens", nil, 200); strings.Contains(string(list), created.ID) {
			t.Fatalf("alice lists bob's token: %s", list)
		}
		root := tokenOf(e, e.admin("root"))
		doc := uploadBytes(t, alice, "f.txt", "text/plain", []byte("x"))
		for _, r := range [][2]string{{"GET", "/api/documents"}, {"GET", "/api/documents/" + doc}, {"GET", "/api/documents/" + doc + "/download"},
			{"DELETE", "/api/documents/" + doc}, {"PATCH", "/api/documents/" + doc}, {"GET", "/api/topics"}} {
			var body any
			if r[0] == "PATCH" {
				body = map[string]string{"filename": "taken.txt"}
			}
			root.call(r[0], r[1], body, 403)
		}
		for _, r := range [][2]string{{"GET", "/api/settings"}, {"GET", "/api/nope"}, {"POST", "/api/admin/nope"}, {"GET", "/api/documents/" + doc + "/x"}} {
			if d := detail(t, root.call(r[0], r[1], nil, 404)); d != "not found" {
				t.Errorf("%s %s: %v", r[0], r[1], d)
			}
		}
		alice.call("GET", "/api/documents/"+doc, nil, 200)
	})
}

// TestClientGoneAfterBody: clients that send a whole request and hang up at once (their
// side closed, which cancels the request's context while the handler runs) never get a
// 5xx: the database did not fail, the client left.
func TestClientGoneAfterBody(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		member := e.member("alice")
		base, _ := neturl.Parse(e.ts.URL)
		var cookie string
		for _, ck := range member.hc.Jar.Cookies(base) {
			cookie += ck.Name + "=" + ck.Value + "; "
		}
		statuses := map[int]int{}
		for i := range 60 {
			path, body := "/api/auth/login", `{"username":"alice","password":"`+testPassword+`"}`
			if i%2 == 1 {
				path, body = "/api/topics", `{"name":"gone `+strconv.Itoa(i)+`"}`
			}
			conn, err := net.Dial("tcp", base.Host)
			if err != nil {
				t.Fatal(err)
			}
			auth := "Cookie: " + cookie + "\r\nX-CSRF-Token: " + member.csrf + "\r\n"
			if path == "/api/auth/login" {
				auth = "" // a login renews the cookie's session: keep alice's out of it
			}
			head := "POST " + path + " HTTP/1.1\r\nHost: " + base.Host + "\r\nContent-Type: application/json\r\n" +
				"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" + auth + "\r\n"
			if _, err := io.WriteString(conn, head+body); err != nil {
				t.Fatal(err)
			}
			conn.(*net.TCPConn).CloseWrite()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				statuses[resp.StatusCode]++
				if resp.StatusCode >= 500 {
					t.Errorf("%s, client gone after its body: %d %s", path, resp.StatusCode, b)
				}
			}
			conn.Close()
		}
		t.Logf("statuses %v", statuses)
		member.call("GET", "/api/auth/me", nil, 200)
	})
}

// TestStolenCookieOfTheChangingSession: a copy of the very session cookie that changes the
// password (stolen before the change) stops working: the session continues under a new
// token only for the browser that made the change.
func TestStolenCookieOfTheChangingSession(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		owner := e.member("alice")
		base, _ := neturl.Parse(e.ts.URL)
		thief := e.anonymous()
		thief.hc.Jar.SetCookies(base, owner.hc.Jar.Cookies(base))
		thief.csrf = owner.csrf
		thief.call("GET", "/api/auth/me", nil, 200)
		resp := owner.request("POST", "/api/auth/me/password", map[string]string{"current_password": testPassword, "new_password": "a brand new passphrase"})
		resp.Body.Close()
		if resp.StatusCode != 204 || resp.Header.Get("X-CSRF-Token") == "" {
			t.Fatalf("password change: %d, X-CSRF-Token %q", resp.StatusCode, resp.Header.Get("X-CSRF-Token"))
		}
		owner.csrf = resp.Header.Get("X-CSRF-Token")
		owner.call("GET", "/api/auth/me", nil, 200)
		owner.call("POST", "/api/topics", map[string]string{"name": "after the change"}, 201)
		if st := thief.status("GET", "/api/auth/me", nil); st != 401 {
			t.Fatalf("the stolen copy of the changing session: %d", st)
		}
		if st := thief.status("POST", "/api/topics", map[string]string{"name": "thief"}); st != 401 && st != 403 {
			t.Fatalf("the stolen copy creating a topic: %d", st)
		}
	})
}

// heldRequest sends method path for c with its body held back until the server has
// authenticated the request and starts reading it (the 100 Continue); release sends the
// body and waits for the status.
func heldRequest(t *testing.T, c *client, method, path string, body any) (release func() (int, []byte)) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(method, c.e.ts.URL+path, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Expect", "100-continue")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	reading := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(context.Background(),
		&httptrace.ClientTrace{Got100Continue: func() { close(reading) }}))
	hc := &http.Client{Jar: c.hc.Jar, Transport: &http.Transport{ExpectContinueTimeout: 1 << 40}}
	type answer struct {
		status int
		body   []byte
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			done <- answer{status: -1}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, b}
	}()
	<-reading
	return func() (int, []byte) {
		b, _ := json.Marshal(body)
		go func() { _, _ = pw.Write(b); pw.Close() }()
		a := <-done
		return a.status, a.body
	}
}

// TestLogoutIsFinalDespiteRequestsInFlight: a stolen copy of a session keeps a request in
// flight while the owner signs out; when that request ends, its save of the session must
// not bring the signed-out session back.
func TestLogoutIsFinalDespiteRequestsInFlight(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		owner := e.member("alice")
		base, _ := neturl.Parse(e.ts.URL)
		thief := e.anonymous()
		thief.hc.Jar.SetCookies(base, owner.hc.Jar.Cookies(base))
		thief.csrf = owner.csrf
		release := heldRequest(t, thief, "POST", "/api/topics", map[string]string{"name": "in flight"})
		owner.call("POST", "/api/auth/logout", nil, 204)
		release()
		if st := thief.status("GET", "/api/auth/me", nil); st != 401 {
			t.Fatalf("the signed-out session works again after a request in flight ended: %d", st)
		}
		if st := owner.status("GET", "/api/auth/me", nil); st != 401 {
			t.Fatalf("the owner's signed-out browser: %d", st)
		}
	})
}

// TestErrorContract: every kind of refusal an attacker can provoke answers with the status
// API.md names and a JSON {"detail": …} body.
func TestErrorContract(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		member := e.member("alice")
		admin := e.admin("root")
		anon := e.anonymous()
		badToken := e.anonymous()
		badToken.bearer = "dv_not-a-token"
		noCSRF := e.login("alice", testPassword)
		noCSRF.csrf = ""
		cases := []struct {
			c            *client
			method, path string
			body         any
			want         int
		}{
			{anon, "GET", "/api/documents", nil, 401},
			{anon, "POST", "/api/topics", map[string]string{"name": "x"}, 401},
			{badToken, "GET", "/api/auth/me", nil, 401},
			{noCSRF, "POST", "/api/topics", map[string]string{"name": "x"}, 403},
			{admin, "GET", "/api/documents", nil, 403},
			{member, "GET", "/api/admin/users", nil, 403},
			{admin, "GET", "/api/nope", nil, 404},
			{member, "GET", "/api/documents/00000000-0000-0000-0000-000000000000", nil, 404},
			{member, "GET", "/api/documents/not-a-uuid", nil, 404},
			{member, "PUT", "/api/documents", map[string]string{}, 404}, // the /api/* catch-all: unknown
			{member, "POST", "/api/topics", "{", 400},
			{member, "POST", "/api/topics", `{"name":"x","owner":"bob"}`, 400},
			{member, "POST", "/api/topics", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413},
			{anon, "POST", "/api/auth/login", map[string]string{"username": "alice", "password": "wrong"}, 401},
		}
		for _, tc := range cases {
			resp := tc.c.request(tc.method, tc.path, tc.body)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out map[string]any
			if resp.StatusCode != tc.want || json.Unmarshal(b, &out) != nil || out["detail"] == nil || len(out) != 1 ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: %d %s (%s), want %d with only a detail", tc.method, tc.path, resp.StatusCode, b, resp.Header.Get("Content-Type"), tc.want)
			}
		}
		for range 4 { // the fifth wrong guess from this address; the one above was the first
			anon.call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "wrong"}, 401)
		}
		resp := anon.request("POST", "/api/auth/login", map[string]string{"username": "alice", "password": "wrong"})
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || detail(t, b) == nil {
			t.Errorf("throttled login: %d %s, Retry-After %q", resp.StatusCode, b, resp.Header.Get("Retry-After"))
		}
	})
}

// TestAnonymousRequestsWriteNothing: requests anyone can send in bulk without an account
// (CSRF tokens, malformed or refused logins, blob uploads with made-up tokens, made-up API
// tokens and session cookies, unknown paths) leave every table as it was.
func TestAnonymousRequestsWriteNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.createUser("alice", store.RoleUser, 1000)
		rows := func() string {
			var out []string
			for _, tbl := range []string{"sessions", "login_throttle", "audit_log", "api_tokens", "documents", "users"} {
				var n int
				if err := e.store.DB().QueryRow(`SELECT COUNT(*) FROM ` + tbl).Scan(&n); err != nil {
					t.Fatal(err)
				}
				out = append(out, tbl+"="+strconv.Itoa(n))
			}
			return strings.Join(out, " ")
		}
		before := rows()
		base, _ := neturl.Parse(e.ts.URL)
		for i := range 50 {
			c := e.anonymous()
			c.hc.Jar.SetCookies(base, []*http.Cookie{{Name: "docuvault_session", Value: "made-up-" + strconv.Itoa(i), Path: "/"}})
			bearer := e.anonymous()
			bearer.bearer = "dv_made-up-" + strconv.Itoa(i)
			for _, r := range []struct {
				c            *client
				method, path string
				body         any
			}{
				{c, "GET", "/api/auth/csrf", nil},
				{c, "GET", "/api/auth/me", nil},
				{c, "POST", "/api/auth/login", `{"username":`},
				{c, "POST", "/api/auth/login", `{"username":"alice","extra":1}`},
				{c, "POST", "/api/auth/logout", nil},
				{c, "PUT", "/api/blobs/made-up-token-" + strconv.Itoa(i), strings.NewReader("bytes")},
				{bearer, "GET", "/api/documents", nil},
				{bearer, "POST", "/api/auth/me/tokens", map[string]string{"name": "x"}},
				{c, "GET", "/api/nope/" + strconv.Itoa(i), nil},
				{c, "GET", "/index.html", nil},
			} {
				resp := r.c.request(r.method, r.path, r.body)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.Fatalf("%s %s: %d", r.method, r.path, resp.StatusCode)
				}
			}
		}
		if after := rows(); after != before {
			t.Fatalf("anonymous requests wrote rows:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// TestThiefCannotBlockPasswordChange: a stolen session guessing the password at the
// re-check routes from its own address is throttled there, but cannot keep the owner, at
// another address, from changing the password (the remedy that ends the stolen session).
func TestThiefCannotBlockPasswordChange(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		owner := e.member("alice")
		base, _ := neturl.Parse(e.ts.URL)
		thief := e.anonymous()
		thief.hc.Jar.SetCookies(base, owner.hc.Jar.Cookies(base))
		thief.csrf = owner.csrf
		const thiefAddr, ownerAddr = "203.0.113.66", "198.51.100.7"
		counts := map[int]int{}
		for i := range 12 {
			path, body := "/api/auth/me/totp/disable", any(map[string]string{"password": "guess " + strconv.Itoa(i)})
			if i%2 == 0 {
				path, body = "/api/auth/me/password", map[string]string{"current_password": "guess " + strconv.Itoa(i), "new_password": "the thief's new password"}
			}
			resp := thief.request("POST", path, body, "X-Forwarded-For", thiefAddr)
			resp.Body.Close()
			counts[resp.StatusCode]++
		}
		if counts[403] != 5 || counts[429] != 7 {
			t.Fatalf("the thief's 12 guesses: %v, want 5 checked", counts)
		}
		resp := owner.request("POST", "/api/auth/me/password", map[string]string{"current_password": testPassword, "new_password": "a brand new passphrase"},
			"X-Forwarded-For", ownerAddr)
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("the owner's password change during the thief's guessing: %d", resp.StatusCode)
		}
		if st := thief.status("GET", "/api/auth/me", nil); st != 401 {
			t.Fatalf("the stolen session after the change: %d", st)
		}
	}, trustLoopback)
}
