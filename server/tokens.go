package server

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

// TokenPrefix marks DocuVault API tokens so they are recognizable (secret scanners, logs).
const TokenPrefix = "dv_"

type tokenJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

func (s *Server) listTokens(c echo.Context) error {
	list, err := s.store.ListTokens(c.Request().Context(), caller(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, mapSlice(list, func(t store.APIToken) tokenJSON {
		return tokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt}
	}))
}

type createTokenRequest struct {
	Name          string `json:"name"`
	ExpiresInDays *int   `json:"expires_in_days"`
}

// createToken returns the secret once; only its hash is kept.
func (s *Server) createToken(c echo.Context) error {
	var req createTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > maxTokenName || strings.ContainsFunc(req.Name, isControl) {
		return fail(http.StatusUnprocessableEntity, "name must be 1 to 100 characters without control characters")
	}
	var exp *time.Time
	if req.ExpiresInDays != nil {
		if *req.ExpiresInDays < 1 || *req.ExpiresInDays > 3650 {
			return fail(http.StatusUnprocessableEntity, "expires_in_days must be between 1 and 3650")
		}
		t := s.now().UTC().Add(time.Duration(*req.ExpiresInDays) * 24 * time.Hour).Truncate(time.Second)
		exp = &t
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	u := caller(c)
	t, err := s.store.CreateToken(c.Request().Context(), u.ID, u.SessionEpoch, req.Name, tokenHash(secret), exp)
	if err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), u.ID, "token.create", req.Name, c.RealIP())
	return c.JSON(http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "token": secret, "expires_at": exp})
}

func (s *Server) deleteToken(c echo.Context) error {
	u := caller(c)
	if err := s.store.DeleteToken(c.Request().Context(), u.ID, c.Param("id")); err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), u.ID, "token.revoke", c.Param("id"), c.RealIP())
	return c.NoContent(http.StatusNoContent)
}
