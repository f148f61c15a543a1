package server

import (
	"net/http"
	"regexp"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$`)

type adminUserJSON struct {
	userJSON
	UsedBytes     int64 `json:"used_bytes"`
	LimitBytes    int64 `json:"limit_bytes"`
	DocumentCount int64 `json:"document_count"`
}

// audit records an admin action or security event; a failure to write it is logged.
func (s *Server) audit(c echo.Context, action, target string) {
	if err := s.store.Audit(c.Request().Context(), caller(c).ID, action, target, c.RealIP()); err != nil {
		s.log.Error("audit entry lost", "action", action, "err", err)
	}
}

// adminListUsers shows accounts with their usage, never document names.
func (s *Server) adminListUsers(c echo.Context) error {
	list, err := s.store.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, mapSlice(list, func(u store.UserUsage) adminUserJSON {
		return adminUserJSON{userJSON: toUserJSON(u.User), UsedBytes: u.UsedBytes, LimitBytes: u.LimitBytes, DocumentCount: u.DocumentCount}
	}))
}

type adminCreateUser struct {
	Username   string  `json:"username"`
	Role       *string `json:"role"`
	LimitBytes *int64  `json:"limit_bytes"`
}

func validRole(r string) bool { return r == store.RoleUser || r == store.RoleAdmin }

// createUserWithPassword adds an account with a quota; mustChange forces a new password at first login.
func (s *Server) createUserWithPassword(c echo.Context, username, role, password string, limit int64, mustChange bool) (store.User, error) {
	hash, err := HashPassword(password, s.opts.PasswordParams)
	if err != nil {
		return store.User{}, err
	}
	return s.store.CreateUser(c.Request().Context(), store.NewUser{Username: username, PasswordHash: hash, Role: role,
		PasswordMustChange: mustChange, LimitBytes: limit})
}

// adminCreateUser makes an account with a random temporary password, shown once.
func (s *Server) adminCreateUser(c echo.Context) error {
	var req adminCreateUser
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if !usernamePattern.MatchString(req.Username) {
		return fail(http.StatusUnprocessableEntity, "username must be 2 to 64 letters, digits, dots, dashes or underscores")
	}
	role := store.RoleUser
	if req.Role != nil {
		if !validRole(*req.Role) {
			return fail(http.StatusUnprocessableEntity, "role must be user or admin")
		}
		role = *req.Role
	}
	limit := s.opts.DefaultLimitBytes
	if req.LimitBytes != nil {
		if *req.LimitBytes < 0 {
			return fail(http.StatusUnprocessableEntity, "limit_bytes must not be negative")
		}
		limit = *req.LimitBytes
	}
	temp := RandomPassword()
	u, err := s.createUserWithPassword(c, req.Username, role, temp, limit, true)
	if err != nil {
		return err
	}
	s.audit(c, "admin.user.create", u.Username)
	return c.JSON(http.StatusCreated, map[string]any{"user": toUserJSON(u), "temporary_password": temp})
}

type adminPatchUser struct {
	IsActive   *bool   `json:"is_active"`
	Role       *string `json:"role"`
	LimitBytes *int64  `json:"limit_bytes"`
}

func (s *Server) adminPatchUser(c echo.Context) error {
	var req adminPatchUser
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Role != nil && !validRole(*req.Role) {
		return fail(http.StatusUnprocessableEntity, "role must be user or admin")
	}
	if req.LimitBytes != nil && *req.LimitBytes < 0 {
		return fail(http.StatusUnprocessableEntity, "limit_bytes must not be negative")
	}
	u, err := s.store.UpdateUser(c.Request().Context(), c.Param("id"), store.UserPatch{IsActive: req.IsActive, Role: req.Role, LimitBytes: req.LimitBytes})
	if err != nil {
		return err
	}
	if req.IsActive != nil {
		s.audit(c, "admin.user.active="+strconv.FormatBool(*req.IsActive), u.Username)
	}
	if req.Role != nil {
		s.audit(c, "admin.user.role="+*req.Role, u.Username)
	}
	if req.LimitBytes != nil {
		s.audit(c, "admin.user.limit="+strconv.FormatInt(*req.LimitBytes, 10), u.Username)
	}
	if u.ID == caller(c).ID && c.Get(ctxVia) == "session" {
		// Own privilege change: the session continues under a fresh token.
		if err := s.startSession(c, u); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
}

type resetRequest struct {
	ResetTOTP bool `json:"reset_totp"`
}

// adminResetPassword sets a random temporary password (shown once) that must be changed.
func (s *Server) adminResetPassword(c echo.Context) error {
	var req resetRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	temp := RandomPassword()
	hash, err := HashPassword(temp, s.opts.PasswordParams)
	if err != nil {
		return err
	}
	u, err := s.store.SetPassword(ctx, c.Param("id"), hash, true)
	if err != nil {
		return err
	}
	if req.ResetTOTP {
		if err := s.store.DisableTOTP(ctx, u.ID); err != nil {
			return err
		}
	}
	s.audit(c, "admin.user.reset_password", u.Username)
	return c.JSON(http.StatusOK, map[string]string{"temporary_password": temp})
}

// adminDeleteUser removes the account; its objects go through the deletion outbox.
func (s *Server) adminDeleteUser(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.store.UserByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	keys, err := s.store.DeleteUser(ctx, u.ID)
	if err != nil {
		return err
	}
	s.audit(c, "admin.user.delete", u.Username)
	s.deleteObjectsNow(ctx, keys...)
	return c.NoContent(http.StatusNoContent)
}

type auditJSON struct {
	ID      string  `json:"id"`
	At      string  `json:"at"`
	ActorID *string `json:"actor_id"`
	Action  string  `json:"action"`
	Target  string  `json:"target"`
	IP      string  `json:"ip"`
}

func (s *Server) adminAudit(c echo.Context) error {
	limit, cursor, err := pageParams(c)
	if err != nil {
		return err
	}
	list, next, err := s.store.ListAudit(c.Request().Context(), cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"items": mapSlice(list, func(e store.AuditEntry) auditJSON {
			return auditJSON{ID: e.ID, At: e.At.Format("2006-01-02T15:04:05.000000Z07:00"), ActorID: e.ActorID, Action: e.Action, Target: e.Target, IP: e.IP}
		}),
		"next_cursor": encodeCursor(next),
	})
}

// pageParams reads limit (1..200, default 50) and cursor; bad values are 400.
func pageParams(c echo.Context) (int, *store.Cursor, error) {
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return 0, nil, fail(http.StatusBadRequest, "limit must be between 1 and 200")
		}
		limit = n
	}
	var cursor *store.Cursor
	if v := c.QueryParam("cursor"); v != "" {
		cur, err := store.DecodeCursor(v)
		if err != nil {
			return 0, nil, fail(http.StatusBadRequest, "invalid cursor")
		}
		cursor = cur
	}
	return limit, cursor, nil
}

func encodeCursor(c *store.Cursor) *string {
	if c == nil {
		return nil
	}
	s := c.Encode()
	return &s
}
