package server

import (
	"errors"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

// ProxyAuth is forward authentication: a reverse proxy (Authelia, Authentik, oauth2-proxy)
// signs people in and names them in request headers. The headers are believed only from
// server.trusted_proxies; anyone else could write them.
type ProxyAuth struct {
	Header       string   // e.g. "Remote-User"; "" turns proxy auth off
	GroupsHeader string   // e.g. "Remote-Groups": groups separated by "," or "|"
	EmailHeader  string   // e.g. "Remote-Email"; logged with the sign-in
	AdminGroups  []string // members are admins, everyone else a user (re-applied on every request)
	AutoCreate   bool     // an unknown name becomes a user with the default quota
}

// sessionProxy marks a session started from the proxy's headers: it lasts only while the
// proxy keeps vouching for the same person.
const sessionProxy = "proxy_user"

// unusablePassword is the password hash of accounts made for proxy or single sign-on
// users: it matches no password, so they cannot sign in with one until an admin sets it.
const unusablePassword = "!external"

// proxyCaller signs in the person the trusted proxy names, through an ordinary session (so
// CSRF works as after a password login); headers from any other peer are dropped.
func (s *Server) proxyCaller(c echo.Context) error {
	p := s.opts.ProxyAuth
	r := c.Request()
	ctx := r.Context()
	name := strings.TrimSpace(r.Header.Get(p.Header))
	if !s.peerTrusted(r.RemoteAddr) {
		if name != "" || (p.GroupsHeader != "" && r.Header.Get(p.GroupsHeader) != "") {
			s.log.Warn("proxy auth header from an untrusted peer ignored", "peer", r.RemoteAddr, "header", p.Header,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		for _, h := range []string{p.Header, p.GroupsHeader, p.EmailHeader} {
			if h != "" {
				r.Header.Del(h)
			}
		}
		return nil
	}
	current := s.sessions.GetString(ctx, sessionProxy)
	if name == "" || !validText(name) || len(name) > 255 {
		if current != "" { // the proxy no longer vouches for anyone: its session ends
			return s.sessions.Destroy(ctx)
		}
		return nil
	}
	u, err := s.store.UserByUsername(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound) && p.AutoCreate:
		u, err = s.store.CreateUser(ctx, store.NewUser{Username: name, PasswordHash: unusablePassword, Role: s.proxyRole(r.Header.Get(p.GroupsHeader)),
			LimitBytes: s.opts.DefaultLimitBytes})
		if errors.Is(err, store.ErrConflict) { // created by a parallel request
			u, err = s.store.UserByUsername(ctx, name)
		}
		if err != nil {
			return err
		}
		_ = s.store.Audit(ctx, u.ID, "user.created_by_proxy", u.Username, c.RealIP())
	case errors.Is(err, store.ErrNotFound):
		s.log.Warn("proxy names a user without an account", "username", name)
		return s.endProxySession(c, current)
	case err != nil:
		return err
	}
	if !u.IsActive {
		return s.endProxySession(c, current)
	}
	if p.GroupsHeader != "" && len(p.AdminGroups) > 0 {
		if role := s.proxyRole(r.Header.Get(p.GroupsHeader)); role != u.Role {
			updated, err := s.store.UpdateUser(ctx, u.ID, store.UserPatch{Role: &role})
			if errors.Is(err, store.ErrLastAdmin) {
				s.log.Warn("proxy groups would remove the last admin; role kept", "username", u.Username)
			} else if err != nil {
				return err
			} else {
				_ = s.store.Audit(ctx, u.ID, "user.role_from_proxy", role, c.RealIP())
				u = updated
			}
		}
	}
	if current != u.ID || s.sessions.GetString(ctx, "user_id") != u.ID || s.sessions.GetInt(ctx, "epoch") != u.SessionEpoch {
		if err := s.startSession(c, u); err != nil {
			return err
		}
		s.sessions.Put(ctx, sessionProxy, u.ID)
		email := ""
		if p.EmailHeader != "" {
			email = strings.TrimSpace(r.Header.Get(p.EmailHeader))
		}
		// The trusted proxy vouches for the address: it is recorded on the account, where a
		// later single sign-on login may be linked by it.
		if validProxyEmail(email) {
			if err := s.store.SetEmail(ctx, u.ID, email); errors.Is(err, store.ErrConflict) {
				s.log.Warn("proxy email belongs to another account; not recorded", "user_id", u.ID)
			} else if err != nil {
				return err
			}
		} else if email != "" {
			s.log.Warn("proxy email header is not an address; ignored", "user_id", u.ID)
		}
		s.log.Info("signed in by the proxy", "user_id", u.ID, "email", email)
		_ = s.store.Audit(ctx, u.ID, "login.proxy", u.Username, c.RealIP())
	}
	return nil
}

// endProxySession ends a session the proxy started when it no longer names a usable account.
func (s *Server) endProxySession(c echo.Context, current string) error {
	if current != "" {
		return s.sessions.Destroy(c.Request().Context())
	}
	return nil
}

// proxyRole is admin for a member of an admin group, else user.
func (s *Server) proxyRole(header string) string {
	if s.opts.ProxyAuth.GroupsHeader == "" {
		return store.RoleUser
	}
	for _, g := range strings.FieldsFunc(header, func(r rune) bool { return r == ',' || r == '|' }) {
		for _, a := range s.opts.ProxyAuth.AdminGroups {
			if strings.TrimSpace(g) == a {
				return store.RoleAdmin
			}
		}
	}
	return store.RoleUser
}

// peerTrusted tells whether the connection comes from a configured trusted proxy.
func (s *Server) peerTrusted(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range s.trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// validProxyEmail accepts a plausible address: one "@" with text on both sides, at most 254
// bytes, valid UTF-8 without control characters or spaces.
func validProxyEmail(e string) bool {
	at := strings.IndexByte(e, '@')
	return len(e) <= 254 && at > 0 && at == strings.LastIndexByte(e, '@') && at < len(e)-1 &&
		utf8.ValidString(e) && !strings.ContainsFunc(e, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
