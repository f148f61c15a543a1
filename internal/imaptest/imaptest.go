// Package imaptest runs a real IMAP server (go-imap's imapserver with its in-memory
// backend) over TLS inside a test process, with a certificate made for the test.
package imaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
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
)

// Server is a real IMAP server over TLS in the test process, with its in-memory
// mailboxes.
type Server struct {
	Addr  string
	Host  string
	Port  int
	Roots *x509.CertPool // trusts the server's certificate
	cert  tls.Certificate
	mem   *imapmemserver.Server
	Users map[string]*imapmemserver.User // mail users by login
}

// New starts a server with a certificate for 127.0.0.1 made here.
func New(t *testing.T) *Server {
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
	s := &Server{Roots: x509.NewCertPool(), mem: imapmemserver.New(), Users: map[string]*imapmemserver.User{},
		cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parsed}}
	s.Roots.AddCert(parsed)
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
	s.Addr = ln.Addr().String()
	host, port, _ := net.SplitHostPort(s.Addr)
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	return s
}

// Plain starts a second listener on the same mailboxes without TLS: it offers STARTTLS
// with the test certificate, and, with insecure set, also login without TLS. It returns
// the port.
func (s *Server) Plain(t *testing.T, insecure bool) int {
	t.Helper()
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return s.mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		TLSConfig:    &tls.Config{Certificates: []tls.Certificate{s.cert}},
		InsecureAuth: insecure,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// Mailbox adds a mail user with INBOX and Archive.
func (s *Server) Mailbox(t *testing.T, name, password string) {
	t.Helper()
	u := imapmemserver.NewUser(name, password)
	for _, box := range []string{"INBOX", "Archive"} {
		if err := u.Create(box, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.mem.AddUser(u)
	s.Users[name] = u
}

type literal struct {
	*bytes.Reader
}

func (l literal) Size() int64 { return l.Reader.Size() }

// Deliver appends a raw message to a user's folder and returns its UID.
func (s *Server) Deliver(t *testing.T, user, folder, raw string) imap.UID {
	t.Helper()
	raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
	d, err := s.Users[user].Append(folder, literal{bytes.NewReader([]byte(raw))}, &imap.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.UID
}

// Flags logs in as user and returns the flags of every message in folder by UID.
func (s *Server) Flags(t *testing.T, user, password, folder string) map[imap.UID][]imap.Flag {
	t.Helper()
	c := s.Client(t, user, password)
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

// Client logs in as user.
func (s *Server) Client(t *testing.T, user, password string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(s.Addr, &imapclient.Options{TLSConfig: &tls.Config{RootCAs: s.Roots}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(user, password).Wait(); err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c
}

// HasFlag tells whether flags hold f.
func HasFlag(flags []imap.Flag, f imap.Flag) bool {
	for _, x := range flags {
		if strings.EqualFold(string(x), string(f)) {
			return true
		}
	}
	return false
}
