package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

// maxMailAccounts is how many mail accounts one user may have: each is polled every tick.
const maxMailAccounts = 10

// mailAccountJSON is an account as the API shows it: never the password, sealed or not.
type mailAccountJSON struct {
	ID            string     `json:"id"`
	Host          string     `json:"host"`
	Port          int        `json:"port"`
	TLSMode       string     `json:"tls_mode"`
	Username      string     `json:"username"`
	Folder        string     `json:"folder"`
	After         string     `json:"after"`
	FromFilter    string     `json:"from_filter"`
	SubjectFilter string     `json:"subject_filter"`
	ImportBody    string     `json:"import_body"`
	Enabled       bool       `json:"enabled"`
	LastPolledAt  *time.Time `json:"last_polled_at"`
	LastError     string     `json:"last_error"`
	LastErrorAt   *time.Time `json:"last_error_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func mailAccountOut(a store.MailAccount) mailAccountJSON {
	return mailAccountJSON{ID: a.ID, Host: a.Host, Port: a.Port, TLSMode: a.TLSMode, Username: a.Username, Folder: a.Folder,
		After: a.AfterAction, FromFilter: a.FromFilter, SubjectFilter: a.SubjectFilter, ImportBody: a.ImportBody,
		Enabled: a.Enabled, LastPolledAt: a.LastPolledAt, LastError: a.LastError, LastErrorAt: a.LastErrorAt,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// mailAccountRequest is the body of a create (every field but host, username and password
// has a default) and of a patch (only the fields given change). The password is
// write-only.
type mailAccountRequest struct {
	Host          *string `json:"host"`
	Port          *int    `json:"port"`
	TLSMode       *string `json:"tls_mode"`
	Username      *string `json:"username"`
	Password      *string `json:"password"`
	Folder        *string `json:"folder"`
	After         *string `json:"after"`
	FromFilter    *string `json:"from_filter"`
	SubjectFilter *string `json:"subject_filter"`
	ImportBody    *string `json:"import_body"`
	Enabled       *bool   `json:"enabled"`
}

var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$`)

// apply copies the request's fields onto a and checks the result; the password, when
// given, is returned for sealing.
func (s *Server) applyMailRequest(req mailAccountRequest, a *store.MailAccount, m *intake.Mail) (password string, err error) {
	bad := func(format string, args ...any) error {
		return fail(http.StatusUnprocessableEntity, fmt.Sprintf(format, args...))
	}
	text := func(name string, v *string, dst *string, minLen, maxLen int) error {
		if v == nil {
			return nil
		}
		t := strings.TrimSpace(*v)
		if len(t) < minLen || len(t) > maxLen || strings.ContainsFunc(t, isControl) {
			return bad("%s must be %d to %d bytes without control characters", name, minLen, maxLen)
		}
		*dst = t
		return nil
	}
	for _, f := range []struct {
		name     string
		v        *string
		dst      *string
		min, max int
	}{{"host", req.Host, &a.Host, 1, 253}, {"username", req.Username, &a.Username, 1, 320}, {"folder", req.Folder, &a.Folder, 1, 255},
		{"from_filter", req.FromFilter, &a.FromFilter, 0, 200}, {"subject_filter", req.SubjectFilter, &a.SubjectFilter, 0, 200}} {
		if err := text(f.name, f.v, f.dst, f.min, f.max); err != nil {
			return "", err
		}
	}
	if req.Host != nil && net.ParseIP(a.Host) == nil && !hostName.MatchString(a.Host) {
		return "", bad("host must be a host name or an IP address")
	}
	if req.TLSMode != nil {
		a.TLSMode = *req.TLSMode
	}
	switch a.TLSMode {
	case "tls", "starttls":
	case "none":
		if !m.PlaintextAllowed(a.Host) {
			return "", bad(`tls_mode "none" sends the password in clear: only allowed for a loopback host (or with intake.mail_allow_plaintext)`)
		}
	default:
		return "", bad(`tls_mode must be "tls", "starttls" or "none"`)
	}
	if req.Port != nil {
		a.Port = *req.Port
	}
	if a.Port == 0 {
		a.Port = 993
		if a.TLSMode != "tls" {
			a.Port = 143
		}
	}
	if a.Port < 1 || a.Port > 65535 {
		return "", bad("port must be between 1 and 65535")
	}
	if req.After != nil {
		a.AfterAction = strings.TrimSpace(*req.After)
	}
	switch {
	case a.AfterAction == "mark_read", a.AfterAction == "delete":
	case strings.HasPrefix(a.AfterAction, "move:"):
		dest := strings.TrimPrefix(a.AfterAction, "move:")
		if dest == "" || len(dest) > 255 || strings.ContainsFunc(dest, isControl) || dest == a.Folder {
			return "", bad(`after "move:<folder>" needs a folder other than the one polled, 1 to 255 bytes`)
		}
	default:
		return "", bad(`after must be "mark_read", "delete" or "move:<folder>"`)
	}
	if req.ImportBody != nil {
		a.ImportBody = *req.ImportBody
	}
	if a.ImportBody != "none" && a.ImportBody != "text" {
		return "", bad(`import_body must be "none" or "text"`)
	}
	if req.Enabled != nil {
		a.Enabled = *req.Enabled
	}
	if req.Password != nil {
		// Kept as typed: spaces may be part of it.
		if len(*req.Password) < 1 || len(*req.Password) > 1024 || strings.ContainsFunc(*req.Password, isControl) {
			return "", bad("password must be 1 to 1024 bytes without control characters")
		}
		password = *req.Password
	}
	return password, nil
}

func (s *Server) listMailAccounts(c echo.Context) error {
	list, err := s.store.ListMailAccounts(c.Request().Context(), caller(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, mapSlice(list, mailAccountOut))
}

func (s *Server) getMailAccount(c echo.Context) error {
	a, err := s.store.MailAccount(c.Request().Context(), caller(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, mailAccountOut(a))
}

func (s *Server) createMailAccount(c echo.Context) error {
	var req mailAccountRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Host == nil || req.Username == nil || req.Password == nil {
		return fail(http.StatusUnprocessableEntity, "host, username and password are required")
	}
	ctx := c.Request().Context()
	m, err := s.mailIntake(ctx)
	if err != nil {
		return err
	}
	u := caller(c)
	a := store.MailAccount{ID: store.NewMailAccountID(), UserID: u.ID, TLSMode: "tls", Folder: "INBOX", AfterAction: "mark_read",
		ImportBody: "none", Enabled: true}
	password, err := s.applyMailRequest(req, &a, m)
	if err != nil {
		return err
	}
	if list, err := s.store.ListMailAccounts(ctx, u.ID); err != nil {
		return err
	} else if len(list) >= maxMailAccounts {
		return fail(http.StatusUnprocessableEntity, fmt.Sprintf("at most %d mail accounts per user", maxMailAccounts))
	}
	if a.PasswordEnc, err = m.Keys().Seal(a.ID, password); err != nil {
		return err
	}
	a, err = s.store.CreateMailAccount(ctx, a)
	if err != nil {
		return err
	}
	_ = s.store.Audit(ctx, u.ID, "mail_account.create", a.ID, c.RealIP())
	return c.JSON(http.StatusCreated, mailAccountOut(a))
}

func (s *Server) patchMailAccount(c echo.Context) error {
	var req mailAccountRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := caller(c)
	a, err := s.store.MailAccount(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	m, err := s.mailIntake(ctx)
	if err != nil {
		return err
	}
	before := a
	password, err := s.applyMailRequest(req, &a, m)
	if err != nil {
		return err
	}
	if req.Password == nil && (a.Host != before.Host || a.Port != before.Port || a.TLSMode != before.TLSMode || a.Username != before.Username) {
		// The stored password is only ever sent where its owner typed it for.
		return fail(http.StatusUnprocessableEntity, "password is required when host, port, tls_mode or username change")
	}
	if req.Password != nil {
		if a.PasswordEnc, err = m.Keys().Seal(a.ID, password); err != nil {
			return err
		}
	}
	if a, err = s.store.UpdateMailAccount(ctx, a); err != nil {
		return err
	}
	_ = s.store.Audit(ctx, u.ID, "mail_account.update", a.ID, c.RealIP())
	return c.JSON(http.StatusOK, mailAccountOut(a))
}

func (s *Server) deleteMailAccount(c echo.Context) error {
	u := caller(c)
	if err := s.store.DeleteMailAccount(c.Request().Context(), u.ID, c.Param("id")); err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), u.ID, "mail_account.delete", c.Param("id"), c.RealIP())
	return c.NoContent(http.StatusNoContent)
}

// testMailAccount logs in and lists the folders, importing nothing. A failed login is an
// answer, not an error of the request: 200 with ok false and the reason.
func (s *Server) testMailAccount(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.store.MailAccount(ctx, caller(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	m, err := s.mailIntake(ctx)
	if err != nil {
		return err
	}
	folders, err := m.Test(ctx, a)
	var p *intake.Problem
	switch {
	case err == nil:
		return c.JSON(http.StatusOK, map[string]any{"ok": true, "folders": folders, "error": ""})
	case errors.As(err, &p):
		return c.JSON(http.StatusOK, map[string]any{"ok": false, "folders": []string{}, "error": p.Text})
	}
	return err
}

// mailIntake builds the mail intake on first use: its key may come from the database.
func (s *Server) mailIntake(ctx context.Context) (*intake.Mail, error) {
	s.mailMu.Lock()
	defer s.mailMu.Unlock()
	if s.mail != nil {
		return s.mail, nil
	}
	o := s.opts.Mail
	if o.Keys == nil {
		key, err := intake.InstanceKey(ctx, s.store)
		if err != nil {
			return nil, err
		}
		if o.Keys, err = intake.NewKeyring(key); err != nil {
			return nil, err
		}
	}
	o.Store, o.Ingest, o.Logger, o.Now = s.store, s.ingest, s.log, s.now
	m, err := intake.NewMail(o)
	if err != nil {
		return nil, err
	}
	s.mail = m
	return m, nil
}
