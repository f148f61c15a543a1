package intake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/docuvault/docuvault/store"
)

// MailOptions wire a Mail intake.
type MailOptions struct {
	Store   *store.Store
	Ingest  Adder
	Keys    *Keyring
	Logger  *slog.Logger
	Now     func() time.Time
	Timeout time.Duration // one account's poll, connection included (default 5 min)
	// MaxMessages is how many messages one poll of an account takes (default 100); the
	// rest wait for the next tick.
	MaxMessages int
	// AllowPlaintext lets accounts use tls_mode "none" on any host; without it, only on a
	// loopback address (a local bridge such as Proton Mail Bridge).
	AllowPlaintext bool
	TLSConfig      *tls.Config // nil: the system's roots (tests give their own)
}

// Mail polls users' IMAP accounts and turns attachments into documents.
type Mail struct {
	o   MailOptions
	log *slog.Logger
}

// NewMail checks the options and fills in defaults.
func NewMail(o MailOptions) (*Mail, error) {
	if o.Store == nil || o.Ingest == nil || o.Keys == nil {
		return nil, errors.New("intake: mail needs a store, an ingest path and a keyring")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = 100
	}
	return &Mail{o: o, log: o.Logger}, nil
}

// Keys is the keyring that seals account passwords.
func (m *Mail) Keys() *Keyring { return m.o.Keys }

// PlaintextAllowed tells whether tls_mode "none" may be used to reach host.
func (m *Mail) PlaintextAllowed(host string) bool {
	if m.o.AllowPlaintext || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Problem is a failure the account's owner can act on (wrong password, TLS, quota); its
// text is shown to them and never holds the password.
type Problem struct {
	Text string
	Err  error
}

func (p *Problem) Error() string { return p.Text }
func (p *Problem) Unwrap() error { return p.Err }

func problem(err error, format string, args ...any) error {
	return &Problem{Text: fmt.Sprintf(format, args...), Err: err}
}

// session is a logged-in connection; closing it also ends a command stuck on a server
// that stopped answering, when ctx ends.
type session struct {
	c    *imapclient.Client
	stop func() bool
}

func (s *session) close() {
	s.stop()
	_ = s.c.Logout().Wait()
	_ = s.c.Close()
}

// dial connects and logs in to account a.
func (m *Mail) dial(ctx context.Context, a store.MailAccount) (*session, error) {
	password, err := m.o.Keys.Open(a.ID, a.PasswordEnc)
	if err != nil {
		return nil, problem(err, "the stored password cannot be read with the configured mail keys; enter it again")
	}
	addr := net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if m.o.TLSConfig != nil {
		tc = m.o.TLSConfig.Clone()
	}
	tc.ServerName = a.Host
	d := &net.Dialer{Timeout: 30 * time.Second}
	if dl, ok := ctx.Deadline(); ok {
		d.Deadline = dl
	}
	opts := &imapclient.Options{TLSConfig: tc, Dialer: d}
	var c *imapclient.Client
	switch a.TLSMode {
	case "tls":
		c, err = imapclient.DialTLS(addr, opts)
	case "starttls":
		c, err = imapclient.DialStartTLS(addr, opts)
	case "none":
		if !m.PlaintextAllowed(a.Host) {
			return nil, problem(nil, "tls_mode none is only allowed for a loopback address")
		}
		c, err = imapclient.DialInsecure(addr, opts)
	default:
		return nil, problem(nil, "unknown tls_mode %q", a.TLSMode)
	}
	if err != nil {
		return nil, connectProblem(err)
	}
	s := &session{c: c, stop: context.AfterFunc(ctx, func() { _ = c.Close() })}
	if err := c.WaitGreeting(); err != nil {
		s.close()
		return nil, connectProblem(err)
	}
	if err := c.Login(a.Username, password).Wait(); err != nil {
		s.close()
		if ctx.Err() != nil {
			return nil, problem(ctx.Err(), "the server did not answer in time")
		}
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, problem(err, "login failed: %s", strings.TrimSpace(ie.Text))
		}
		return nil, connectProblem(err)
	}
	return s, nil
}

// connectProblem names a connection failure in words a user can act on.
func connectProblem(err error) error {
	var re *tls.RecordHeaderError
	var ce *tls.CertificateVerificationError
	var ae tls.AlertError
	switch {
	case errors.As(err, &ce):
		return problem(err, "TLS error: the server's certificate is not trusted: %v", ce.Err)
	case errors.As(err, &re), errors.As(err, &ae), strings.Contains(err.Error(), "tls:"):
		return problem(err, "TLS error: %v", err)
	}
	return problem(err, "cannot connect: %v", err)
}

// Test logs in to account a and lists its folders, importing nothing.
func (m *Mail) Test(ctx context.Context, a store.MailAccount) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, min(m.o.Timeout, time.Minute))
	defer cancel()
	s, err := m.dial(ctx, a)
	if err != nil {
		return nil, err
	}
	defer s.close()
	list, err := s.c.List("", "*", nil).Collect()
	if err != nil {
		return nil, problem(err, "listing folders failed: %v", err)
	}
	out := make([]string, 0, len(list))
	for _, l := range list {
		out = append(out, l.Mailbox)
	}
	return out, nil
}
