package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"image/png"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/docuvault/docuvault/store"
)

const (
	totpPeriod      = 30
	backupCodeCount = 10
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpSetup makes a new secret (2FA stays off until enabled with a valid code).
func (s *Server) totpSetup(c echo.Context) error {
	u := caller(c)
	if u.TOTPEnabled {
		return fail(http.StatusConflict, "two-factor authentication is already on")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "DocuVault", AccountName: u.Username, Period: totpPeriod})
	if err != nil {
		return err
	}
	if err := s.store.SetTOTPSecret(c.Request().Context(), u.ID, key.Secret()); err != nil {
		return err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{
		"secret":      key.Secret(),
		"otpauth_url": key.URL(),
		"qr_png":      "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	})
}

// totpStep finds the time step (now ±1) whose code equals code, or -1.
func (s *Server) totpStep(secret, code string) int64 {
	now := s.now()
	code = strings.TrimSpace(code)
	for _, off := range []int64{0, -1, 1} {
		at := now.Add(time.Duration(off*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return at.Unix() / totpPeriod
		}
	}
	return -1
}

type codeRequest struct {
	Code string `json:"code"`
}

// totpEnable turns 2FA on with a valid code and returns the backup codes, shown once.
func (s *Server) totpEnable(c echo.Context) error {
	var req codeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u := caller(c)
	if u.TOTPEnabled {
		return fail(http.StatusConflict, "two-factor authentication is already on")
	}
	if u.TOTPSecret == "" {
		return fail(http.StatusConflict, "call /api/auth/me/totp/setup first")
	}
	step := s.totpStep(u.TOTPSecret, req.Code)
	if step < 0 {
		return fail(http.StatusUnprocessableEntity, "wrong code")
	}
	codes, hashes := newBackupCodes()
	if err := s.store.EnableTOTP(c.Request().Context(), u.ID, step, hashes); err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), u.ID, "totp.enable", u.Username, c.RealIP())
	return c.JSON(http.StatusOK, map[string][]string{"backup_codes": codes})
}

type passwordRequest struct {
	Password string `json:"password"`
}

// requirePassword re-checks the caller's password for sensitive changes.
func (s *Server) requirePassword(c echo.Context) (store.User, error) {
	var req passwordRequest
	if err := decodeJSON(c, &req); err != nil {
		return store.User{}, err
	}
	u := caller(c)
	if err := s.checkCurrentPassword(c, u, req.Password, "password is wrong"); err != nil {
		return store.User{}, err
	}
	return u, nil
}

func (s *Server) totpDisable(c echo.Context) error {
	u, err := s.requirePassword(c)
	if err != nil {
		return err
	}
	if err := s.store.DisableTOTP(c.Request().Context(), u.ID); err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), u.ID, "totp.disable", u.Username, c.RealIP())
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) regenerateBackupCodes(c echo.Context) error {
	u, err := s.requirePassword(c)
	if err != nil {
		return err
	}
	if !u.TOTPEnabled {
		return fail(http.StatusConflict, "two-factor authentication is off")
	}
	codes, hashes := newBackupCodes()
	if err := s.store.ReplaceBackupCodes(c.Request().Context(), u.ID, hashes); err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), u.ID, "totp.backup_codes", u.Username, c.RealIP())
	return c.JSON(http.StatusOK, map[string][]string{"backup_codes": codes})
}

// checkSecondFactor accepts a TOTP code not used before, or an unused backup code.
func (s *Server) checkSecondFactor(c echo.Context, u store.User, code string) (bool, error) {
	ctx := c.Request().Context()
	if step := s.totpStep(u.TOTPSecret, code); step >= 0 {
		return s.store.UseTOTPStep(ctx, u.ID, step)
	}
	return s.store.UseBackupCode(ctx, u.ID, backupCodeHash(code))
}

// newBackupCodes makes ten codes like "k7xq-m2rd" and their hashes.
func newBackupCodes() (codes, hashes []string) {
	for range backupCodeCount {
		raw := randomString(8, "abcdefghjkmnpqrstuvwxyz23456789")
		code := raw[:4] + "-" + raw[4:]
		codes = append(codes, code)
		hashes = append(hashes, backupCodeHash(code))
	}
	return codes, hashes
}

// backupCodeHash normalizes (case, dashes, spaces) and hashes a backup code.
func backupCodeHash(code string) string {
	norm := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	sum := sha256.Sum256([]byte("docuvault-backup-code:" + norm))
	return hex.EncodeToString(sum[:])
}
