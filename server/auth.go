package server

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

// csrfToken returns the session's CSRF token. A caller without a signed-in session gets a
// fresh token and nothing is stored: it needs none (login is not CSRF-checked, and its
// answer carries the session's token), and storing one would let anonymous requests fill
// the sessions table.
func (s *Server) csrfToken(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"csrf_token": s.ensureCSRF(c)})
}

// ensureCSRF returns the signed-in session's CSRF token, creating it if needed; for an
// anonymous caller, an unstored one.
func (s *Server) ensureCSRF(c echo.Context) string {
	ctx := c.Request().Context()
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	if !s.sessions.Exists(ctx, "user_id") {
		return randomString(32, alphabet)
	}
	tok := s.sessions.GetString(ctx, "csrf")
	if tok == "" {
		tok = randomString(32, alphabet)
		s.sessions.Put(ctx, "csrf", tok)
	}
	return tok
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	OTP      string `json:"otp"`
}

// login counts the attempt (throttle) before any hash is computed, checks the password
// (costing the same for unknown and deactivated users, who get the same answer) and the
// second factor, then renews the session token so a pre-login cookie is worthless.
func (s *Server) login(c echo.Context) error {
	// Login is the one unsafe route without a CSRF token (there is no session yet). An HTML
	// form on another site can post a JSON-looking body as text/plain, urlencoded or
	// multipart without a preflight, and would sign the visitor's browser in to the
	// attacker's account (whose documents the victim then uploads). application/json
	// cannot be sent cross-site without CORS, so login takes nothing else.
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return fail(http.StatusUnsupportedMediaType, "login takes Content-Type: application/json")
	}
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if len(req.Username) > maxLoginField || len(req.Password) > maxLoginField || len(req.OTP) > maxLoginField {
		return fail(http.StatusBadRequest, "username, password and otp must be at most 1024 bytes each")
	}
	ctx := c.Request().Context()
	ip := c.RealIP()
	device, err := s.knownDevice(c, req.Username)
	if err != nil {
		return err
	}
	buckets := loginBuckets(req.Username, ip, device)
	grants, wait, err := s.takeAttempt(ctx, buckets)
	if err != nil {
		return err
	}
	if wait > 0 {
		// Not audited: a refusal must write nothing, or anyone could grow the (never
		// pruned) audit log by a row per request. The request metrics count the 429s.
		return tooManyAttempts(c, wait)
	}

	u, err := s.store.UserByUsername(ctx, req.Username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash := s.dummyHash
	if err == nil {
		hash = u.PasswordHash
	}
	ok, herr := s.hashes.check(ctx, hash, req.Password)
	if herr != nil || err != nil || !ok || !u.IsActive {
		return s.loginFailed(c, req.Username, u.ID, "invalid credentials")
	}
	if u.TOTPEnabled {
		if req.OTP == "" {
			return fail(http.StatusUnauthorized, "otp_required")
		}
		ok, err := s.checkSecondFactor(c, u, req.OTP)
		if err != nil {
			return err
		}
		if !ok {
			return s.loginFailed(c, req.Username, u.ID, "otp_required")
		}
	}
	if err := s.attemptSucceeded(ctx, buckets, grants); err != nil {
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	if err := s.rememberDevice(c, u.Username, device); err != nil {
		return err
	}
	_ = s.store.Audit(ctx, u.ID, "login.success", u.Username, ip)
	return c.JSON(http.StatusOK, map[string]any{"user": toUserJSON(u), "csrf_token": s.ensureCSRF(c)})
}

// loginFailed audits a failed login; the attempt was already counted by the throttle.
func (s *Server) loginFailed(c echo.Context, username, userID, detail string) error {
	_ = s.store.Audit(c.Request().Context(), userID, "login.failure", username, c.RealIP())
	return fail(http.StatusUnauthorized, detail)
}

// startSession renews the token (no fixation) and binds the session to the user's epoch.
func (s *Server) startSession(c echo.Context, u store.User) error {
	ctx := c.Request().Context()
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, "user_id", u.ID)
	s.sessions.Put(ctx, "epoch", u.SessionEpoch)
	s.sessions.Remove(ctx, "csrf")
	return nil
}

func (s *Server) logout(c echo.Context) error {
	if c.Get(ctxVia) == "session" {
		if err := s.sessions.Destroy(c.Request().Context()); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) me(c echo.Context) error {
	return c.JSON(http.StatusOK, toUserJSON(caller(c)))
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// checkCurrentPassword re-checks the signed-in user's password before a sensitive change:
// 403 with wrong when it does not match. The check is throttled like a login (5 per 15
// minutes per user and address, and a user-wide backoff), so a stolen session or token
// cannot guess the password at full speed, nor keep the owner from changing it.
func (s *Server) checkCurrentPassword(c echo.Context, u store.User, password, wrong string) error {
	ctx := c.Request().Context()
	buckets := recheckBuckets(u.ID, c.RealIP())
	grants, wait, err := s.takeAttempt(ctx, buckets)
	if err != nil {
		return err
	}
	if wait > 0 {
		return tooManyAttempts(c, wait)
	}
	if ok, _ := s.hashes.check(ctx, u.PasswordHash, password); !ok {
		return fail(http.StatusForbidden, wrong)
	}
	return s.attemptSucceeded(ctx, buckets, grants)
}

// changePassword ends the user's other sessions and revokes their API tokens (with the
// new hash, in one transaction); this session continues under a new token.
func (s *Server) changePassword(c echo.Context) error {
	var req passwordChange
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := caller(c)
	if err := s.checkCurrentPassword(c, u, req.CurrentPassword, "current password is wrong"); err != nil {
		return err
	}
	if len([]rune(req.NewPassword)) < MinPasswordLength {
		return fail(http.StatusUnprocessableEntity, "password must be at least 12 characters")
	}
	// The current password is verified above, so equality with it is equality with the
	// stored one; for a forced change that is the temporary password an admin has seen.
	if subtle.ConstantTimeCompare([]byte(req.NewPassword), []byte(req.CurrentPassword)) == 1 {
		return fail(http.StatusUnprocessableEntity, "the new password must differ from the current one")
	}
	hash, err := HashPassword(req.NewPassword, s.opts.PasswordParams)
	if err != nil {
		return err
	}
	u, err = s.store.SetPassword(ctx, u.ID, hash, false)
	if err != nil {
		return err
	}
	if c.Get(ctxVia) == "session" {
		if err := s.startSession(c, u); err != nil {
			return err
		}
		c.Response().Header().Set("X-CSRF-Token", s.ensureCSRF(c))
	}
	_ = s.store.Audit(ctx, u.ID, "password.change", u.Username, c.RealIP())
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) myQuota(c echo.Context) error {
	q, err := s.store.QuotaOf(c.Request().Context(), caller(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int64{"used_bytes": q.UsedBytes, "limit_bytes": q.LimitBytes, "trash_bytes": q.TrashBytes})
}

type aiSettings struct {
	AIProvider *string `json:"ai_provider"`
	AIModel    *string `json:"ai_model"`
}

func (s *Server) getSettings(c echo.Context) error {
	u := caller(c)
	return c.JSON(http.StatusOK, aiSettings{AIProvider: u.AIProvider, AIModel: u.AIModel})
}

// putSettings stores the user's provider choice; it must be one the server has enabled.
func (s *Server) putSettings(c echo.Context) error {
	var req aiSettings
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.AIProvider != nil {
		known := false
		for _, p := range s.opts.Providers {
			known = known || p == *req.AIProvider
		}
		if !known {
			return fail(http.StatusUnprocessableEntity, "ai_provider must be one of the enabled providers: "+strings.Join(s.opts.Providers, ", "))
		}
	}
	if req.AIModel != nil && (len(*req.AIModel) > maxAIModel || *req.AIModel == "" || strings.ContainsFunc(*req.AIModel, isControl)) {
		return fail(http.StatusUnprocessableEntity, "ai_model must be 1 to 200 characters without control characters, or null")
	}
	u, err := s.store.SetAISettings(c.Request().Context(), caller(c).ID, req.AIProvider, req.AIModel)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, aiSettings{AIProvider: u.AIProvider, AIModel: u.AIModel})
}
