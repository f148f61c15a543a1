package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

// Context keys.
const (
	ctxUser     = "user"
	ctxVia      = "via" // "session" or "token"
	ctxBadToken = "bad_token"
)

// logRequests logs one line per request with its route pattern, status and duration.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		s.log.Info("request", "method", c.Request().Method, "route", c.Path(), "status", c.Response().Status,
			"duration_ms", time.Since(start).Milliseconds(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
}

// securityHeaders sets the browser protections on every response. Scripts and styles come
// only from this server; uploads may also go to uploadOrigin (the object store). Frames
// show only this server's pages and blob: URLs the page made (a PDF preview's bytes).
func securityHeaders(uploadOrigin string) echo.MiddlewareFunc {
	csp := "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'" + strings.TrimRight(" "+uploadOrigin, " ") +
		"; frame-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			return next(c)
		}
	}
}

// loadCaller finds who is calling (bearer token or session) without requiring anyone.
func (s *Server) loadCaller(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if s.opts.ProxyAuth.Header != "" && c.Request().Header.Get("Authorization") == "" {
			if err := s.proxyCaller(c); err != nil {
				return err
			}
		}
		if h := c.Request().Header.Get("Authorization"); h != "" {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				c.Set(ctxBadToken, true)
				return next(c)
			}
			u, err := s.store.UserByToken(ctx, tokenHash(strings.TrimSpace(secret)))
			switch {
			case errors.Is(err, store.ErrNotFound):
				c.Set(ctxBadToken, true)
			case err != nil:
				return err
			case u.IsActive:
				c.Set(ctxUser, u)
				c.Set(ctxVia, "token")
			default:
				c.Set(ctxBadToken, true)
			}
			return next(c)
		}
		uid := s.sessions.GetString(ctx, "user_id")
		if uid == "" {
			return next(c)
		}
		u, err := s.store.UserByID(ctx, uid)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err != nil || !u.IsActive || s.sessions.GetInt(ctx, "epoch") != u.SessionEpoch {
			// Deleted, deactivated, or its sessions were ended (password change): this one ends now.
			if err := s.sessions.Destroy(ctx); err != nil {
				return err
			}
			return next(c)
		}
		c.Set(ctxUser, u)
		c.Set(ctxVia, "session")
		return next(c)
	}
}

// checkCSRF requires X-CSRF-Token on unsafe requests authenticated by the session cookie.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if c.Get(ctxVia) != "session" || c.Path() == "/api/blobs/:token" {
			return next(c) // bearer requests, and uploads authorized by their signed token
		}
		want := s.sessions.GetString(c.Request().Context(), "csrf")
		got := c.Request().Header.Get("X-CSRF-Token")
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			return fail(http.StatusForbidden, "CSRF token missing or invalid")
		}
		return next(c)
	}
}

// passwordChangeAllowed are the routes open while a password change is pending.
var passwordChangeAllowed = map[string]bool{
	"GET /api/auth/me": true, "POST /api/auth/me/password": true, "POST /api/auth/logout": true,
}

// requireAuth needs a caller, and holds back everything else while a password change is pending.
func (s *Server) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, ok := c.Get(ctxUser).(store.User)
		if !ok {
			if c.Get(ctxBadToken) == true {
				return fail(http.StatusUnauthorized, "invalid or expired API token")
			}
			return fail(http.StatusUnauthorized, "authentication required")
		}
		if u.PasswordMustChange && !passwordChangeAllowed[c.Request().Method+" "+c.Path()] {
			return fail(http.StatusForbidden, "password_change_required")
		}
		return next(c)
	}
}

// requireRole lets only callers of role through: documents and own topics are for users,
// the admin area for admins (who never read documents).
func (s *Server) requireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if caller(c).Role != role {
				if role == store.RoleAdmin {
					return fail(http.StatusForbidden, "admin only")
				}
				return fail(http.StatusForbidden, "admins cannot access documents or personal topics")
			}
			return next(c)
		}
	}
}

// caller is the authenticated user (only under requireAuth).
func caller(c echo.Context) store.User {
	u, _ := c.Get(ctxUser).(store.User)
	return u
}

// tokenHash is how API tokens are stored: SHA-256, hex.
func tokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
