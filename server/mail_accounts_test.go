package server_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/internal/imaptest"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
)

const mailPDF = `From: Billing <billing@power.example>
To: alice@example.org
Subject: Invoice
Message-ID: <api-1@power.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

See attached.
--b
Content-Type: application/pdf
Content-Disposition: attachment; filename="invoice.pdf"
Content-Transfer-Encoding: base64

`

func mailMessage() string {
	return mailPDF + base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n% api test\n%%EOF\n")) + "\n--b--\n"
}

// withMail points the server's mail intake at srv and logs into logs.
func withMail(srv *imaptest.Server, logs *testenv.SyncBuffer) envOption {
	return func(o *server.Options) {
		o.Mail.TLSConfig = &tls.Config{RootCAs: srv.Roots}
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// TestMailAccountsAPI: create, read, test, poll, change and delete an account; the
// password is never in a response, a log line or the database in clear; a wrong password
// is the account's visible error; another user sees none of it (404).
func TestMailAccountsAPI(t *testing.T) {
	srv := imaptest.New(t)
	const secret = "s3cret-Mail-Passw0rd-xyz"
	const wrong = "wrong-Mail-Passw0rd-abc"
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			login := "alice-" + d + "@example.org" // a mailbox of its own per database
			srv.Mailbox(t, login, secret)
			srv.Deliver(t, login, "INBOX", mailMessage())
			logs := &testenv.SyncBuffer{}
			e := newEnv(t, d, "local", withMail(srv, logs))
			alice, bob := e.member("alice"), e.member("bob")
			var responses []string
			keep := func(b []byte) { responses = append(responses, string(b)) }

			var a map[string]any
			keep(alice.call("POST", "/api/auth/me/mail-accounts", map[string]any{"host": srv.Host, "port": srv.Port,
				"username": login, "password": secret, "after": "move:Archive"}, 201, &a))
			id, _ := a["id"].(string)
			if a["tls_mode"] != "tls" || a["folder"] != "INBOX" || a["import_body"] != "none" || a["enabled"] != true || a["last_polled_at"] != nil {
				t.Fatalf("created account %v", a)
			}
			if _, ok := a["password"]; ok {
				t.Fatal("the password field is returned")
			}
			var sealed string
			if err := e.store.DB().QueryRow(`SELECT password_enc FROM mail_accounts WHERE id = $1`, id).Scan(&sealed); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(sealed, secret) || !strings.HasPrefix(sealed, "v1:") {
				t.Fatalf("stored password %q is not sealed", sealed)
			}

			var res map[string]any
			keep(alice.call("POST", "/api/auth/me/mail-accounts/"+id+"/test", nil, 200, &res))
			if res["ok"] != true || !strings.Contains(strings.Join(toStrings(res["folders"]), ","), "Archive") {
				t.Fatalf("test: %v", res)
			}
			if err := e.srv.RunJob(context.Background(), server.JobsConfig{}, "poll-mail"); err != nil {
				t.Fatal(err)
			}
			keep(alice.call("GET", "/api/auth/me/mail-accounts/"+id, nil, 200, &a))
			if a["last_polled_at"] == nil || a["last_error"] != "" {
				t.Fatalf("after a poll: %v", a)
			}
			var page struct {
				Items []map[string]any `json:"items"`
			}
			alice.call("GET", "/api/documents", nil, 200, &page)
			if len(page.Items) != 1 || page.Items[0]["filename"] != "invoice.pdf" {
				t.Fatalf("alice's documents after the poll: %v", page.Items)
			}
			if n := len(srv.Flags(t, login, secret, "Archive")); n < 1 {
				t.Fatal("the message was not moved to Archive")
			}

			// Bob cannot see, change, test or delete alice's account, nor poll it into his vault.
			for _, probe := range []struct{ method, path string }{{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/test"}} {
				var body any
				if probe.method == "PATCH" {
					body = map[string]any{"folder": "Spam"}
				}
				if st := bob.status(probe.method, "/api/auth/me/mail-accounts/"+id+probe.path, body); st != 404 {
					t.Errorf("bob %s alice's account: %d, want 404", probe.method, st)
				}
			}
			var list []map[string]any
			keep(bob.call("GET", "/api/auth/me/mail-accounts", nil, 200, &list))
			if len(list) != 0 {
				t.Fatalf("bob lists %v", list)
			}
			if st := e.anonymous().status("GET", "/api/auth/me/mail-accounts", nil); st != 401 {
				t.Fatalf("anonymous: %d", st)
			}
			if st := e.admin("root").status("GET", "/api/auth/me/mail-accounts", nil); st != 403 {
				t.Fatalf("admin: %d", st)
			}

			// A wrong password: the test says so, and the next poll shows it on the account.
			keep(alice.call("PATCH", "/api/auth/me/mail-accounts/"+id, map[string]any{"password": wrong}, 200, &a))
			keep(alice.call("POST", "/api/auth/me/mail-accounts/"+id+"/test", nil, 200, &res))
			if res["ok"] != false || !strings.Contains(res["error"].(string), "login failed") {
				t.Fatalf("test with a wrong password: %v", res)
			}
			if err := e.srv.RunJob(context.Background(), server.JobsConfig{}, "poll-mail"); err != nil {
				t.Fatal(err)
			}
			keep(alice.call("GET", "/api/auth/me/mail-accounts", nil, 200, &list))
			if len(list) != 1 || !strings.Contains(list[0]["last_error"].(string), "login failed") || list[0]["last_error_at"] == nil {
				t.Fatalf("the wrong password is not visible: %v", list)
			}

			for _, r := range append(responses, logs.String()) {
				if strings.Contains(r, secret) || strings.Contains(r, wrong) || strings.Contains(r, sealed) {
					t.Fatalf("a password shows in a response or the log: %s", r)
				}
			}
			alice.call("DELETE", "/api/auth/me/mail-accounts/"+id, nil, 204)
			alice.call("GET", "/api/auth/me/mail-accounts/"+id, nil, 404)
			alice.call("GET", "/api/documents", nil, 200, &page)
			if len(page.Items) != 1 {
				t.Fatal("deleting the account removed its documents")
			}
		})
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestMailAccountsValidation: malformed and hostile input is a 4xx that stores nothing.
func TestMailAccountsValidation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		ok := func() map[string]any {
			return map[string]any{"host": "imap.example.org", "username": "alice", "password": "pw"}
		}
		with := func(k string, v any) map[string]any { m := ok(); m[k] = v; return m }
		cases := []struct {
			name string
			body any
			want int
		}{
			{"port zero-minus", with("port", -1), 422},
			{"port too big", with("port", 70000), 422},
			{"port as text", with("port", "993"), 400},
			{"unknown tls mode", with("tls_mode", "ssl"), 422},
			{"plaintext to a remote host", with("tls_mode", "none"), 422},
			{"NUL in host", with("host", "imap\x00.example.org"), 400},
			{"NUL in password", with("password", "p\x00w"), 400},
			{"control character in username", with("username", "al\x01ice"), 422},
			{"host with a path", with("host", "imap.example.org/x"), 422},
			{"host with a space", with("host", "imap example.org"), 422},
			{"huge host", with("host", strings.Repeat("a", 10000)), 422},
			{"huge password", with("password", strings.Repeat("p", 5000)), 422},
			{"huge filter", with("from_filter", strings.Repeat("f", 300)), 422},
			{"huge body", with("subject_filter", strings.Repeat("s", 2<<20)), 413},
			{"unknown after", with("after", "archive"), 422},
			{"move without folder", with("after", "move:"), 422},
			{"move to the polled folder", with("after", "move:INBOX"), 422},
			{"unknown import_body", with("import_body", "pdf"), 422},
			{"unknown field", with("smtp", true), 400},
			{"missing password", map[string]any{"host": "imap.example.org", "username": "alice"}, 422},
			{"empty password", with("password", ""), 422},
			{"not an object", "[1,2]", 400},
		}
		for _, c := range cases {
			if st := alice.status("POST", "/api/auth/me/mail-accounts", c.body); st != c.want {
				t.Errorf("%s: %d, want %d", c.name, st, c.want)
			}
		}
		var list []map[string]any
		alice.call("GET", "/api/auth/me/mail-accounts", nil, 200, &list)
		if len(list) != 0 {
			t.Fatalf("refused requests stored %d accounts", len(list))
		}
		var a map[string]any
		alice.call("POST", "/api/auth/me/mail-accounts", with("tls_mode", "starttls"), 201, &a)
		if a["port"] != float64(143) {
			t.Fatalf("starttls default port: %v", a["port"])
		}
		alice.call("POST", "/api/auth/me/mail-accounts", map[string]any{"host": "127.0.0.1", "port": 1143, "tls_mode": "none",
			"username": "bridge", "password": "pw"}, 201, &a)
		id := a["id"].(string)
		for _, c := range cases {
			if c.name == "missing password" {
				continue // a patch changes only what it names
			}
			if st := alice.status("PATCH", "/api/auth/me/mail-accounts/"+id, c.body); st != c.want {
				t.Errorf("patch %s: %d, want %d", c.name, st, c.want)
			}
		}
		var after map[string]any
		alice.call("GET", "/api/auth/me/mail-accounts/"+id, nil, 200, &after)
		if after["host"] != "127.0.0.1" || after["updated_at"] != a["updated_at"] {
			t.Fatalf("refused patches changed the account: %v", after)
		}
		for range 8 {
			alice.call("POST", "/api/auth/me/mail-accounts", ok(), 201)
		}
		alice.call("POST", "/api/auth/me/mail-accounts", ok(), 422)
		alice.call("GET", "/api/auth/me/mail-accounts/not-a-uuid", nil, 404)
		// The stored password is never sent to a server it was not typed for.
		alice.call("PATCH", "/api/auth/me/mail-accounts/"+id, map[string]any{"host": "127.0.0.2"}, 422)
		alice.call("PATCH", "/api/auth/me/mail-accounts/"+id, map[string]any{"port": 2143}, 422)
		alice.call("PATCH", "/api/auth/me/mail-accounts/"+id, map[string]any{"host": "127.0.0.2", "password": "pw2"}, 200)
		alice.call("PATCH", "/api/auth/me/mail-accounts/"+id, map[string]any{"folder": "Receipts", "after": "delete"}, 200)
	})
}
