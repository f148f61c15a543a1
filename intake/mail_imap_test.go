package intake_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

// imapServer is a real IMAP server over TLS in the test process, with its in-memory
// mailboxes.
type imapServer struct {
	addr  string
	host  string
	port  int
	roots *x509.CertPool
	cert  tls.Certificate
	mem   *imapmemserver.Server
	users map[string]*imapmemserver.User
}

// newIMAPServer starts a server with a certificate for 127.0.0.1 made here.
func newIMAPServer(t *testing.T) *imapServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s := &imapServer{roots: x509.NewCertPool(), mem: imapmemserver.New(), users: map[string]*imapmemserver.User{},
		cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parsed}}
	s.roots.AddCert(parsed)
	tc := &tls.Config{Certificates: []tls.Certificate{s.cert}}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return s.mem.NewSession(), nil, nil
		},
		Caps:      imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		TLSConfig: tc,
		Logger:    discardLogger{},
	})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.addr = ln.Addr().String()
	host, port, _ := net.SplitHostPort(s.addr)
	s.host = host
	s.port, _ = strconv.Atoi(port)
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// mailbox adds a mail user with INBOX and Archive.
func (s *imapServer) mailbox(t *testing.T, name, password string) {
	t.Helper()
	u := imapmemserver.NewUser(name, password)
	for _, box := range []string{"INBOX", "Archive"} {
		if err := u.Create(box, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.mem.AddUser(u)
	s.users[name] = u
}

type literal struct {
	*bytes.Reader
}

func (l literal) Size() int64 { return l.Reader.Size() }

// deliver appends a raw message to a user's folder and returns its UID.
func (s *imapServer) deliver(t *testing.T, user, folder, raw string) imap.UID {
	t.Helper()
	raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
	d, err := s.users[user].Append(folder, literal{bytes.NewReader([]byte(raw))}, &imap.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.UID
}

// inspect logs in as user and returns the flags of every message in folder by UID.
func (s *imapServer) inspect(t *testing.T, user, password, folder string) map[imap.UID][]imap.Flag {
	t.Helper()
	c := s.client(t, user, password)
	defer c.Close()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := map[imap.UID][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	var all imap.SeqSet
	all.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		out[m.UID] = m.Flags
	}
	return out
}

// client logs in as user.
func (s *imapServer) client(t *testing.T, user, password string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(s.addr, &imapclient.Options{TLSConfig: &tls.Config{RootCAs: s.roots}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(user, password).Wait(); err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c
}

func hasFlag(flags []imap.Flag, f imap.Flag) bool {
	for _, x := range flags {
		if strings.EqualFold(string(x), string(f)) {
			return true
		}
	}
	return false
}

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
		TLSConfig: &tls.Config{RootCAs: srv.roots}, Timeout: time.Minute})
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
	a, err := f.store.CreateMailAccount(context.Background(), store.MailAccount{ID: id, UserID: u.ID, Host: srv.host, Port: srv.port,
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
