package intake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

func fakePDF(tag string) []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + tag + "\n%%EOF\n")
}

// pdfMessage is msgPDF as another message: its own Message-ID, attachment name and bytes (a
// second copy of the same bytes would be refused as the user's duplicate).
func pdfMessage(id, name, tag string) string {
	m := strings.ReplaceAll(msgPDF, "pdf-1@", id+"@")
	m = strings.ReplaceAll(m, "invoice-2026-10", name)
	return strings.Replace(m, b64(fakePDF("invoice")), b64(fakePDF(tag)), 1)
}

// Real MIME messages, as mailers write them.
var (
	msgPDF = `From: Billing <billing@power.example>
To: alice@example.org
Subject: Your invoice
Message-ID: <pdf-1@power.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=utf-8

Please find your invoice attached.
--outer
Content-Type: application/pdf; name="invoice-2026-10.pdf"
Content-Disposition: attachment; filename="invoice-2026-10.pdf"
Content-Transfer-Encoding: base64

` + b64(fakePDF("invoice")) + `
--outer--
`
	msgInlineImage = `From: Friend <friend@example.net>
To: alice@example.org
Subject: Look at this
Message-ID: <inline-1@example.net>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<p>Hello <img src="cid:logo@x"></p>
--rel
Content-Type: image/png
Content-ID: <logo@x>
Content-Disposition: inline
Content-Transfer-Encoding: base64

` + b64([]byte("\x89PNG\r\n\x1a\nnot really")) + `
--rel--
`
	msgNested = `From: Bank <noreply@bank.example>
To: alice@example.org
Subject: Statement
Message-ID: <nested-1@bank.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed"

--mixed
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Your statement is attached. Gr=C3=BC=C3=9Fe
--alt
Content-Type: text/html; charset=utf-8

<p>Your statement is attached.</p>
--alt--
--mixed
Content-Type: text/csv; charset=utf-8
Content-Disposition: attachment; filename="statement.csv"
Content-Transfer-Encoding: quoted-printable

date,amount,memo
2026-10-01,-12.50,Caf=C3=A9 au lait
--mixed
Content-Type: application/x-msdownload
Content-Disposition: attachment; filename="setup.exe"
Content-Transfer-Encoding: base64

` + b64([]byte("MZ not a document")) + `
--mixed--
`
	msgRFC2231 = `From: Vermieter <post@haus.example>
To: alice@example.org
Subject: =?UTF-8?Q?Nebenkostenabrechnung_M=C3=A4rz?=
Message-ID: <rfc2231-1@haus.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: application/pdf
Content-Disposition: attachment;
 filename*0*=UTF-8''Nebenkosten%20M%C3%A4rz%20;
 filename*1*=%E2%82%AC%202026.pdf
Content-Transfer-Encoding: base64

` + b64(fakePDF("nebenkosten")) + `
--b
Content-Type: application/octet-stream; name="=?UTF-8?B?w5xiZXJzaWNodC5wZGY=?="
Content-Disposition: attachment; filename="=?UTF-8?B?w5xiZXJzaWNodC5wZGY=?="
Content-Transfer-Encoding: base64

` + b64(fakePDF("uebersicht")) + `
--b--
`
	msgPlain = `From: Friend <friend@example.net>
To: alice@example.org
Subject: Lunch?
Message-ID: <plain-1@example.net>
Content-Type: text/plain; charset=utf-8

No attachment here.
`
	msgMalformed = `From: Broken <broken@example.net>
To: alice@example.org
Subject: broken
Message-ID: <broken-1@example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-closed"

--never-closed
Content-Type: application/pdf
Content-Disposition: attachment; filename="cut.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK!!!!not base64 at all ***
`
)

// bigMessage carries an attachment of size bytes.
func bigMessage(size int) string {
	b := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	copy(b, "%PDF-1.4\n")
	return `From: Scanner <scan@office.example>
To: alice@example.org
Subject: Scan
Message-ID: <big-1@office.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: application/pdf
Content-Disposition: attachment; filename="scan-30mb.pdf"
Content-Transfer-Encoding: base64

` + b64(b) + `
--b--
`
}

// documentBytes reads back a document of u by filename.
func (f *fixture) documentBytes(t *testing.T, u store.User, name string) []byte {
	t.Helper()
	var key string
	if err := f.store.DB().QueryRow(`SELECT object_key FROM documents WHERE user_id = $1 AND filename = $2`, u.ID, name).Scan(&key); err != nil {
		t.Fatalf("document %q: %v", name, err)
	}
	r, _, err := f.blobs.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMailImportsAttachmentsExactlyOnce: every kind of message on a real IMAP server over
// TLS, two polls, and a restart on the same database.
func TestMailImportsAttachmentsExactlyOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		srv := newIMAPServer(t)
		srv.Mailbox(t, "alice@example.org", "mail-pass-alice")
		alice := f.user(t, "alice", 5<<20)
		uids := map[string]imap.UID{}
		for name, raw := range map[string]string{"pdf": msgPDF, "inline": msgInlineImage, "nested": msgNested,
			"rfc2231": msgRFC2231, "plain": msgPlain, "big": bigMessage(30 << 20), "malformed": msgMalformed} {
			uids[name] = srv.Deliver(t, "alice@example.org", "INBOX", raw)
		}
		adder := ingest.New(ingest.Options{Store: f.store, Blobs: f.blobs, Logger: quiet, MaxUploadBytes: 64 << 20,
			AllowedContentTypes: []string{"application/pdf", "text/*", "image/*"}})
		m := f.mail(t, f.store, srv, adder)
		a := f.account(t, m, srv, alice, "alice@example.org", "mail-pass-alice", "mark_read")

		got := pollNow(t, m, f.store, a)
		want := map[string]int{"invoice-2026-10.pdf": 1, "statement.csv": 1, "Nebenkosten März € 2026.pdf": 1, "Übersicht.pdf": 1}
		if docs := f.documents(t, alice); fmt.Sprint(docs) != fmt.Sprint(want) {
			t.Fatalf("documents after the first poll = %v, want %v", docs, want)
		}
		if b := f.documentBytes(t, alice, "invoice-2026-10.pdf"); !bytes.Equal(b, fakePDF("invoice")) {
			t.Fatalf("the PDF's bytes differ: %q", b)
		}
		if b := string(f.documentBytes(t, alice, "statement.csv")); !strings.Contains(b, "Café au lait") {
			t.Fatalf("the quoted-printable CSV was not decoded: %q", b)
		}
		if !strings.Contains(got.LastError, "quota") || got.LastErrorAt == nil || got.LastPolledAt == nil {
			t.Fatalf("the refused 30 MB attachment is not the account's error: %q at %v", got.LastError, got.LastErrorAt)
		}
		q, err := f.store.QuotaOf(context.Background(), alice.ID)
		if err != nil || q.UsedBytes > q.LimitBytes {
			t.Fatalf("quota %+v, %v", q, err)
		}
		flags := srv.Flags(t, "alice@example.org", "mail-pass-alice", "INBOX")
		for name, uid := range uids {
			seen := hasFlag(flags[uid], imap.FlagSeen)
			if wantSeen := name != "big" && name != "malformed"; seen != wantSeen {
				t.Errorf("message %s: seen = %v, want %v (refused and unreadable messages stay unread)", name, seen, wantSeen)
			}
		}

		// A second poll imports nothing again, and still reports the message left behind.
		got = pollNow(t, m, f.store, a)
		if docs := f.documents(t, alice); fmt.Sprint(docs) != fmt.Sprint(want) {
			t.Fatalf("documents after the second poll = %v, want %v", docs, want)
		}
		if !strings.Contains(got.LastError, "quota") {
			t.Fatalf("the second poll forgot the refused message: %q", got.LastError)
		}

		// A restart: a new store and intake on the same database; the flags are cleared on
		// the server, so only the records stop a second import. A new message arrives.
		for _, uid := range uids {
			clearSeen(t, srv, "alice@example.org", uid)
		}
		srv.Deliver(t, "alice@example.org", "INBOX", pdfMessage("pdf-2", "invoice-2026-11", "november"))
		st2 := openStore(t, f.dialect, f.dsn)
		m2 := f.mail(t, st2, srv, ingest.New(ingest.Options{Store: st2, Blobs: f.blobs, Logger: quiet, MaxUploadBytes: 64 << 20}))
		pollNow(t, m2, st2, a)
		want["invoice-2026-11.pdf"] = 1
		if docs := f.documents(t, alice); fmt.Sprint(docs) != fmt.Sprint(want) {
			t.Fatalf("documents after the restart = %v, want %v", docs, want)
		}
	})
}

// clearSeen takes the \Seen flag off a message (a user marking it unread).
func clearSeen(t *testing.T, srv *imapServer, user string, uid imap.UID) {
	t.Helper()
	c := srv.Client(t, user, "mail-pass-alice")
	defer c.Close()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMailAfterActions: move to a folder, delete; a move to a folder that does not exist
// fails visibly, and once the folder exists the message is moved without a second import.
func TestMailAfterActions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		srv := newIMAPServer(t)
		srv.Mailbox(t, "a@example.org", "mail-pass-alice")
		srv.Mailbox(t, "b@example.org", "mail-pass-alice")
		alice := f.user(t, "alice", 5<<20)
		m := f.mail(t, f.store, srv, nil)

		srv.Deliver(t, "a@example.org", "INBOX", msgPDF)
		moving := f.account(t, m, srv, alice, "a@example.org", "mail-pass-alice", "move:Archive")
		if got := pollNow(t, m, f.store, moving); got.LastError != "" {
			t.Fatalf("move: %s", got.LastError)
		}
		if n := len(srv.Flags(t, "a@example.org", "mail-pass-alice", "INBOX")); n != 0 {
			t.Fatalf("INBOX still holds %d messages after the move", n)
		}
		if n := len(srv.Flags(t, "a@example.org", "mail-pass-alice", "Archive")); n != 1 {
			t.Fatalf("Archive holds %d messages, want 1", n)
		}

		srv.Deliver(t, "b@example.org", "INBOX", msgNested)
		deleting := f.account(t, m, srv, alice, "b@example.org", "mail-pass-alice", "delete")
		pollNow(t, m, f.store, deleting)
		if n := len(srv.Flags(t, "b@example.org", "mail-pass-alice", "INBOX")); n != 0 {
			t.Fatalf("INBOX still holds %d messages after delete", n)
		}

		srv.Deliver(t, "a@example.org", "INBOX", msgRFC2231)
		moving.AfterAction = "move:Later"
		if _, err := f.store.UpdateMailAccount(context.Background(), moving); err != nil {
			t.Fatal(err)
		}
		got := pollNow(t, m, f.store, moving)
		if !strings.Contains(got.LastError, "move:Later") {
			t.Fatalf("a failed move is not visible: %q", got.LastError)
		}
		if err := srv.Users["a@example.org"].Create("Later", nil); err != nil {
			t.Fatal(err)
		}
		if got := pollNow(t, m, f.store, moving); got.LastError != "" {
			t.Fatalf("second try: %s", got.LastError)
		}
		if n := len(srv.Flags(t, "a@example.org", "mail-pass-alice", "Later")); n != 1 {
			t.Fatalf("Later holds %d messages, want 1", n)
		}
		want := map[string]int{"invoice-2026-10.pdf": 1, "statement.csv": 1, "setup.exe": 1, "Nebenkosten März € 2026.pdf": 1, "Übersicht.pdf": 1}
		if docs := f.documents(t, alice); fmt.Sprint(docs) != fmt.Sprint(want) {
			t.Fatalf("documents = %v, want %v", docs, want)
		}
	})
}

// crashAfterCommit commits the document, then fails as a process dying before it could
// record the commit would.
type crashAfterCommit struct {
	intake.Adder
	crashes int
}

func (c *crashAfterCommit) Add(ctx context.Context, userID string, f ingest.File) (store.Document, error) {
	d, err := c.Adder.Add(ctx, userID, f)
	if err == nil && c.crashes > 0 {
		c.crashes--
		return store.Document{}, errors.New("process died")
	}
	return d, err
}

// crashBeforeCommit makes the pending document and lets the poller record it, then dies
// before any byte is stored: the pending row and its reservation stay behind.
type crashBeforeCommit struct {
	intake.Adder
	st *store.Store
}

func (c crashBeforeCommit) Add(ctx context.Context, userID string, f ingest.File) (store.Document, error) {
	d, err := c.st.CreatePendingWithin(ctx, userID, f.Filename, "application/pdf", 4096, 0)
	if err != nil {
		return d, err
	}
	if err := f.Pending(ctx, d.ID); err != nil {
		return d, err
	}
	return store.Document{}, errors.New("process died")
}

// TestMailRetryAfterCrash: a poll that dies after a document is committed but before the
// attachment is recorded done, or after the pending row but before the bytes, is finished
// by the next poll with exactly one document per attachment.
func TestMailRetryAfterCrash(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		srv := newIMAPServer(t)
		srv.Mailbox(t, "a@example.org", "mail-pass-alice")
		alice := f.user(t, "alice", 5<<20)
		real := ingest.New(ingest.Options{Store: f.store, Blobs: f.blobs, Logger: quiet, MaxUploadBytes: 64 << 20})
		srv.Deliver(t, "a@example.org", "INBOX", msgRFC2231) // two attachments

		before := f.mail(t, f.store, srv, crashBeforeCommit{Adder: real, st: f.store})
		a := f.account(t, before, srv, alice, "a@example.org", "mail-pass-alice", "mark_read")
		if err := before.PollAccount(context.Background(), a); err == nil {
			t.Fatal("the crash before the commit was not reported")
		}
		if got, _ := f.store.MailAccount(context.Background(), alice.ID, a.ID); got.LastError == "" {
			t.Fatal("the crash left no error on the account")
		}
		after := f.mail(t, f.store, srv, &crashAfterCommit{Adder: real, crashes: 1})
		if err := after.PollAccount(context.Background(), a); err == nil {
			t.Fatal("the crash after the commit was not reported")
		}
		if docs := f.documents(t, alice); len(docs) != 1 {
			t.Fatalf("after the crash: %v, want the one committed document", docs)
		}
		if got := pollNow(t, f.mail(t, f.store, srv, real), f.store, a); got.LastError != "" {
			t.Fatalf("retry: %s", got.LastError)
		}
		want := map[string]int{"Nebenkosten März € 2026.pdf": 1, "Übersicht.pdf": 1}
		if docs := f.documents(t, alice); fmt.Sprint(docs) != fmt.Sprint(want) {
			t.Fatalf("documents = %v, want %v", docs, want)
		}
		var pending int
		if err := f.store.DB().QueryRow(`SELECT COUNT(*) FROM documents WHERE status = 'pending'`).Scan(&pending); err != nil || pending != 0 {
			t.Fatalf("%d pending documents left (%v)", pending, err)
		}
		for _, fl := range srv.Flags(t, "a@example.org", "mail-pass-alice", "INBOX") {
			if !hasFlag(fl, imap.FlagSeen) {
				t.Fatal("the message was not marked read after the retry")
			}
		}
	})
}

// TestMailWrongPasswordAndIsolation: a wrong password is the account's visible error and
// imports nothing; each account's mail goes to its owner only.
func TestMailWrongPasswordAndIsolation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		srv := newIMAPServer(t)
		srv.Mailbox(t, "alice@example.org", "mail-pass-alice")
		srv.Mailbox(t, "bob@example.org", "mail-pass-bob")
		alice, bob := f.user(t, "alice", 5<<20), f.user(t, "bob", 5<<20)
		srv.Deliver(t, "alice@example.org", "INBOX", msgPDF)
		srv.Deliver(t, "bob@example.org", "INBOX", msgNested)
		m := f.mail(t, f.store, srv, nil)
		wrong := f.account(t, m, srv, alice, "alice@example.org", "not-the-password", "mark_read")
		got := pollNow(t, m, f.store, wrong)
		if !strings.Contains(got.LastError, "login failed") || strings.Contains(got.LastError, "not-the-password") {
			t.Fatalf("wrong password: last_error %q", got.LastError)
		}
		if _, err := m.Test(context.Background(), wrong); err == nil {
			t.Fatal("the test of a wrong password passed")
		}
		f.account(t, m, srv, bob, "bob@example.org", "mail-pass-bob", "mark_read")
		if err := m.PollAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if docs := f.documents(t, alice); len(docs) != 0 {
			t.Fatalf("alice got %v from bob's mailbox or her wrong login", docs)
		}
		if docs := f.documents(t, bob); fmt.Sprint(docs) != fmt.Sprint(map[string]int{"statement.csv": 1, "setup.exe": 1}) {
			t.Fatalf("bob's documents = %v", docs)
		}
		folders, err := m.Test(context.Background(), f.account(t, m, srv, bob, "bob@example.org", "mail-pass-bob", "delete"))
		if err != nil || len(folders) != 2 {
			t.Fatalf("test: %v, %v", folders, err)
		}
	})
}
