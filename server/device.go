package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// The known-device cookie marks a browser that has signed in as a user before. It holds no
// credential: it only lets that browser's login attempts for that username be counted in
// a bucket of their own, so an attacker guessing from elsewhere (or from behind the same
// NAT) cannot push the owner's usual browsers into a wait. It is signed with a key shared
// by every replica and sent only to the login route.
const (
	deviceCookie   = "docuvault_device"
	deviceLifetime = 180 * 24 * time.Hour
)

// deviceKey is the HMAC key of the cookie, created once per database and then cached.
func (s *Server) deviceKey(ctx context.Context) ([]byte, error) {
	s.deviceMu.Lock()
	defer s.deviceMu.Unlock()
	if s.deviceSecret != nil {
		return s.deviceSecret, nil
	}
	v, err := s.store.Secret(ctx, "device_cookie_key", func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	})
	if err != nil {
		return nil, err
	}
	s.deviceSecret = []byte(v)
	return s.deviceSecret, nil
}

func deviceSignature(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// knownDevice returns the device id of a valid cookie issued for username, or "".
func (s *Server) knownDevice(c echo.Context, username string) (string, error) {
	ck, err := c.Cookie(deviceCookie)
	if err != nil || ck.Value == "" {
		return "", nil
	}
	key, err := s.deviceKey(c.Request().Context())
	if err != nil {
		return "", err
	}
	payload, sig, ok := strings.Cut(ck.Value, "~")
	if !ok || !hmac.Equal([]byte(sig), []byte(deviceSignature(key, payload))) {
		return "", nil
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 4 || parts[0] != "1" {
		return "", nil
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || string(name) != username {
		return "", nil
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || s.now().Unix() >= exp {
		return "", nil
	}
	return parts[2], nil
}

// rememberDevice (re)issues the cookie after a successful login, keeping the device id.
func (s *Server) rememberDevice(c echo.Context, username, device string) error {
	key, err := s.deviceKey(c.Request().Context())
	if err != nil {
		return err
	}
	if device == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("server: device id: %w", err)
		}
		device = hex.EncodeToString(b)
	}
	exp := s.now().Add(deviceLifetime)
	payload := "1." + base64.RawURLEncoding.EncodeToString([]byte(username)) + "." + device + "." + strconv.FormatInt(exp.Unix(), 10)
	c.SetCookie(&http.Cookie{
		Name: deviceCookie, Value: payload + "~" + deviceSignature(key, payload),
		Path: "/api/auth/login", Expires: exp, MaxAge: int(deviceLifetime.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.sessions.Cookie.Secure,
	})
	return nil
}
