package intake_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/internal/testenv"
)

// TestMailConcurrentPolls: replicas polling the same accounts at the same moment import
// each attachment once (the account's hold keeps a second poller out).
func TestMailConcurrentPolls(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		srv := newIMAPServer(t)
		srv.Mailbox(t, "a@example.org", "mail-pass-alice")
		alice := f.user(t, "alice", 5<<20)
		for i := range 5 {
			srv.Deliver(t, "a@example.org", "INBOX", pdfMessage(fmt.Sprintf("pdf-c%d", i), fmt.Sprintf("invoice-%d", i), fmt.Sprint(i)))
		}
		replicas := make([]*intake.Mail, 4)
		for i := range replicas {
			replicas[i] = f.mail(t, openStore(t, f.dialect, f.dsn), srv, nil)
		}
		f.account(t, replicas[0], srv, alice, "a@example.org", "mail-pass-alice", "mark_read")
		errs := testenv.Together(len(replicas), func(i int) error { return replicas[i].PollAll(context.Background()) })
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// Whichever replica held the account may have left some for the next tick: run one.
		if err := replicas[0].PollAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		docs := f.documents(t, alice)
		if len(docs) != 5 {
			t.Fatalf("documents = %v, want 5 distinct", docs)
		}
		for name, n := range docs {
			if n != 1 {
				t.Fatalf("%s imported %d times", name, n)
			}
		}
	})
}

// TestMailProblemsVisible: a server whose certificate is not trusted, and one that accepts
// the connection and never answers, are the account's errors within the poll's time
// limit; a body import makes the text a document.
func TestMailProblemsVisible(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		srv := newIMAPServer(t)
		srv.Mailbox(t, "a@example.org", "mail-pass-alice")
		alice := f.user(t, "alice", 5<<20)
		m := f.mail(t, f.store, srv, nil)
		a := f.account(t, m, srv, alice, "a@example.org", "mail-pass-alice", "mark_read")

		untrusting, err := intake.NewMail(intake.MailOptions{Store: f.store, Ingest: f.ingest, Keys: m.Keys(), Logger: quiet,
			TLSConfig: &tls.Config{}})
		if err != nil {
			t.Fatal(err)
		}
		if got := pollNow(t, untrusting, f.store, a); !strings.Contains(got.LastError, "TLS error") {
			t.Fatalf("untrusted certificate: %q", got.LastError)
		}

		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c) // held open, never a byte
				mu.Unlock()
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
		hanging := a
		hanging.Port = ln.Addr().(*net.TCPAddr).Port
		if _, err := f.store.UpdateMailAccount(context.Background(), hanging); err != nil {
			t.Fatal(err)
		}
		quick, err := intake.NewMail(intake.MailOptions{Store: f.store, Ingest: f.ingest, Keys: m.Keys(), Logger: quiet,
			TLSConfig: &tls.Config{RootCAs: srv.Roots}, Timeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		got := pollNow(t, quick, f.store, hanging)
		if got.LastError == "" || time.Since(start) > 10*time.Second {
			t.Fatalf("a server that never answers: %q after %v", got.LastError, time.Since(start))
		}

		// Back to the real server, importing bodies too.
		a.ImportBody = "text"
		if _, err := f.store.UpdateMailAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		srv.Deliver(t, "a@example.org", "INBOX", msgNested)
		if got := pollNow(t, m, f.store, a); got.LastError != "" {
			t.Fatalf("body import: %s", got.LastError)
		}
		docs := f.documents(t, alice)
		if docs["Statement.txt"] != 1 || docs["statement.csv"] != 1 {
			t.Fatalf("documents = %v, want the body as Statement.txt and the CSV", docs)
		}
		if b := string(f.documentBytes(t, alice, "Statement.txt")); !strings.Contains(b, "Grüße") {
			t.Fatalf("the body text: %q", b)
		}
	})
}

// TestMailSTARTTLSAndPlain: starttls upgrades a plain connection and imports; "none" on a
// loopback address (a local bridge) works; "none" to any other host is refused before
// connecting, without the explicit setting.
func TestMailSTARTTLSAndPlain(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		srv := newIMAPServer(t)
		srv.Mailbox(t, "a@example.org", "mail-pass-alice")
		alice := f.user(t, "alice", 5<<20)
		m := f.mail(t, f.store, srv, nil)
		srv.Deliver(t, "a@example.org", "INBOX", msgPDF)
		a := f.account(t, m, srv, alice, "a@example.org", "mail-pass-alice", "mark_read")
		a.TLSMode, a.Port = "starttls", srv.Plain(t, false)
		if _, err := f.store.UpdateMailAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		if got := pollNow(t, m, f.store, a); got.LastError != "" {
			t.Fatalf("starttls: %s", got.LastError)
		}
		if docs := f.documents(t, alice); docs["invoice-2026-10.pdf"] != 1 {
			t.Fatalf("documents = %v", docs)
		}

		srv.Deliver(t, "a@example.org", "INBOX", msgRFC2231)
		a.TLSMode, a.Port = "none", srv.Plain(t, true)
		if _, err := f.store.UpdateMailAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		if got := pollNow(t, m, f.store, a); got.LastError != "" {
			t.Fatalf("plain on loopback: %s", got.LastError)
		}
		if docs := f.documents(t, alice); len(docs) != 3 {
			t.Fatalf("documents = %v", docs)
		}
		if m.PlaintextAllowed("imap.example.org") || m.PlaintextAllowed("10.0.0.1") || !m.PlaintextAllowed("::1") {
			t.Fatal("plaintext rule")
		}
		a.Host = "imap.example.org"
		if _, err := f.store.UpdateMailAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		if got := pollNow(t, m, f.store, a); !strings.Contains(got.LastError, "loopback") {
			t.Fatalf("plain to a remote host: %q", got.LastError)
		}
	})
}
