package intake_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/internal/imaptest"
	"github.com/docuvault/docuvault/store"
)

type imapServer = imaptest.Server

var (
	newIMAPServer = imaptest.New
	hasFlag       = imaptest.HasFlag
)

// mailSetup is an intake over f's database with a keyring and the server's roots.
func (f *fixture) mail(t *testing.T, st *store.Store, srv *imapServer, adder intake.Adder) *intake.Mail {
	t.Helper()
	keys, err := intake.NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if adder == nil {
		adder = ingest.New(ingest.Options{Store: st, Blobs: f.blobs, Logger: quiet, MaxUploadBytes: 64 << 20})
	}
	m, err := intake.NewMail(intake.MailOptions{Store: st, Ingest: adder, Keys: keys, Logger: quiet,
		TLSConfig: &tls.Config{RootCAs: srv.Roots}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// account stores a mail account of u on srv.
func (f *fixture) account(t *testing.T, m *intake.Mail, srv *imapServer, u store.User, login, password, after string) store.MailAccount {
	t.Helper()
	id := store.NewMailAccountID()
	sealed, err := m.Keys().Seal(id, password)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.store.CreateMailAccount(context.Background(), store.MailAccount{ID: id, UserID: u.ID, Host: srv.Host, Port: srv.Port,
		TLSMode: "tls", Username: login, PasswordEnc: sealed, Folder: "INBOX", AfterAction: after, ImportBody: "none", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// pollNow polls one account and returns its stored state afterwards.
func pollNow(t *testing.T, m *intake.Mail, st *store.Store, a store.MailAccount) store.MailAccount {
	t.Helper()
	if err := m.PollAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	got, err := st.MailAccount(context.Background(), a.UserID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// b64 wraps base64 at 76 columns as mailers do.
func b64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	out.WriteString(s)
	return out.String()
}
