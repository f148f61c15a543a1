package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/docuvault/docuvault/store"
)

// OIDC configures single sign-on with an OpenID provider (authorization code flow with PKCE).
type OIDC struct {
	Issuer               string // "" turns single sign-on off
	ClientID             string
	ClientSecret         string
	Scopes               []string // besides openid; default profile, email, groups
	ButtonLabel          string   // "Sign in with …" on the login page
	UsernameClaim        string   // default preferred_username
	GroupsClaim          string   // default groups
	AdminGroups          []string // members are admins, everyone else a user (applied at each login)
	AllowedGroups        []string // when set, only members may sign in
	AutoCreate           bool     // a first login with no linked account creates one
	DisablePasswordLogin bool     // password sign-in only for BreakGlassAdmin
	BreakGlassAdmin      string   // the admin who may still sign in with a password
}

// oidcState is what the browser carries between the redirect and the callback, signed:
// the state, the nonce and the PKCE verifier, and when it expires.
type oidcState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

const (
	oidcCookie       = "docuvault_oidc"
	oidcStateTTL     = 10 * time.Minute
	sessionIDToken   = "oidc_id_token"
	oidcCallbackPath = "/api/auth/oidc/callback"
)

// oidcClient is the provider, discovered on first use (and again after a failure), so a
// provider that is down at start does not keep the server from starting.
type oidcClient struct {
	http     *http.Client // discovery, key set, code exchange: each call bounded
	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	endSess  string
}

func (s *Server) oidcProvider(ctx context.Context) (*oidc.Provider, *oidc.IDTokenVerifier, string, error) {
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	if s.oidc.provider != nil {
		return s.oidc.provider, s.oidc.verifier, s.oidc.endSess, nil
	}
	// The key set is fetched with a context that outlives this request: go-oidc keeps it
	// and fetches again when an ID token names a key it does not know (rotation). Each call
	// is bounded by the client's timeout, so a provider that hangs holds nobody for long.
	p, err := oidc.NewProvider(oidc.ClientContext(context.Background(), s.oidc.http), s.opts.OIDC.Issuer)
	if err != nil {
		return nil, nil, "", &unavailable{dep: "identity provider", err: err}
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&meta)
	s.oidc.provider, s.oidc.endSess = p, meta.EndSession
	s.oidc.verifier = p.Verifier(&oidc.Config{ClientID: s.opts.OIDC.ClientID, Now: s.now})
	return p, s.oidc.verifier, meta.EndSession, nil
}

func (s *Server) oauthConfig(p *oidc.Provider, c echo.Context) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID}
	extra := s.opts.OIDC.Scopes
	if len(extra) == 0 {
		extra = []string{"profile", "email", "groups"}
	}
	return &oauth2.Config{ClientID: s.opts.OIDC.ClientID, ClientSecret: s.opts.OIDC.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.publicURL(c) + oidcCallbackPath, Scopes: append(scopes, extra...)}
}

// publicURL is server.base_url, or the request's own origin when none is set.
func (s *Server) publicURL(c echo.Context) string {
	if s.opts.BaseURL != "" {
		return strings.TrimRight(s.opts.BaseURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}

// oidcLogin sends the browser to the provider with a fresh state, nonce and PKCE challenge.
func (s *Server) oidcLogin(c echo.Context) error {
	ctx := c.Request().Context()
	p, _, _, err := s.oidcProvider(ctx)
	if err != nil {
		return err
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	st := oidcState{State: randomString(32, alphabet), Nonce: randomString(32, alphabet), Verifier: oauth2.GenerateVerifier(),
		Expires: s.now().Add(oidcStateTTL).Unix()}
	val, err := s.signState(ctx, st)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: oidcCookie, Value: val, Path: "/api/auth/oidc", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.sessions.Cookie.Secure, MaxAge: int(oidcStateTTL.Seconds())})
	u := s.oauthConfig(p, c).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	return c.Redirect(http.StatusFound, u)
}

// oidcCallback finishes the flow: state, code (with the PKCE verifier), ID token (issuer,
// audience, expiry, signature, nonce), then the account, its role and a session.
func (s *Server) oidcCallback(c echo.Context) error {
	ctx := c.Request().Context()
	ck, err := c.Cookie(oidcCookie)
	c.SetCookie(&http.Cookie{Name: oidcCookie, Value: "", Path: "/api/auth/oidc", HttpOnly: true, MaxAge: -1}) // one use
	if err != nil {
		return fail(http.StatusBadRequest, "single sign-on expired or was started in another browser: start again")
	}
	st, ok := s.openState(ctx, ck.Value)
	if !ok || subtle.ConstantTimeCompare([]byte(st.State), []byte(c.QueryParam("state"))) != 1 {
		return fail(http.StatusBadRequest, "single sign-on state does not match: start again")
	}
	if e := c.QueryParam("error"); e != "" {
		return fail(http.StatusUnauthorized, "the identity provider refused: "+e)
	}
	p, verifier, _, err := s.oidcProvider(ctx)
	if err != nil {
		return err
	}
	tok, err := s.oauthConfig(p, c).Exchange(oidc.ClientContext(ctx, s.oidc.http), c.QueryParam("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		s.log.Warn("single sign-on code exchange failed", "err", err)
		return fail(http.StatusUnauthorized, "the identity provider did not accept the code")
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		s.log.Warn("ID token refused", "err", err)
		return fail(http.StatusUnauthorized, "the ID token is not valid")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return fail(http.StatusUnauthorized, "the ID token is not valid")
	}
	claims, err := s.oidcClaims(ctx, p, tok, idt)
	if err != nil {
		return err
	}
	u, err := s.oidcUser(c, idt, claims)
	if err != nil {
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessionIDToken, raw)
	_ = s.store.Audit(ctx, u.ID, "login.oidc", u.Username, c.RealIP())
	return c.Redirect(http.StatusFound, "/")
}

// idClaims are the claims DocuVault reads from an ID token.
type idClaims struct {
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"` // some providers send "true"
}

// oidcClaims are the ID token's claims; when it lacks the username, email or groups (some
// providers put them only in the userinfo answer, e.g. Authelia by default), the userinfo
// endpoint's claims for the same subject fill the gaps.
func (s *Server) oidcClaims(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, idt *oidc.IDToken) (map[string]any, error) {
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return nil, fail(http.StatusUnauthorized, "the ID token is not valid")
	}
	wanted := []string{defaultString(s.opts.OIDC.UsernameClaim, "preferred_username"), defaultString(s.opts.OIDC.GroupsClaim, "groups"), "email"}
	missing := false
	for _, k := range wanted {
		_, ok := all[k]
		missing = missing || !ok
	}
	if !missing || p.UserInfoEndpoint() == "" {
		return all, nil
	}
	info, err := p.UserInfo(oidc.ClientContext(ctx, s.oidc.http), oauth2.StaticTokenSource(tok))
	if err != nil {
		s.log.Warn("userinfo not available; using the ID token's claims only", "err", err)
		return all, nil
	}
	var extra map[string]any
	if info.Subject != idt.Subject || info.Claims(&extra) != nil {
		return nil, fail(http.StatusUnauthorized, "the provider's userinfo is for someone else")
	}
	for k, v := range extra {
		if _, ok := all[k]; !ok {
			all[k] = v
		}
	}
	return all, nil
}

// oidcUser finds (or links, or creates) the local account of a verified ID token and
// applies the provider's groups.
func (s *Server) oidcUser(c echo.Context, idt *oidc.IDToken, all map[string]any) (store.User, error) {
	ctx := c.Request().Context()
	o := s.opts.OIDC
	std := idClaims{}
	std.Email, _ = all["email"].(string)
	std.EmailVerified = all["email_verified"]
	groups := claimStrings(all[defaultString(o.GroupsClaim, "groups")])
	if len(o.AllowedGroups) > 0 && !intersects(groups, o.AllowedGroups) {
		s.log.Info("single sign-on refused: not in an allowed group", "subject", idt.Subject)
		return store.User{}, fail(http.StatusForbidden, "your account at the identity provider is not allowed to use DocuVault")
	}
	verified := std.EmailVerified == true || std.EmailVerified == "true"
	u, err := s.store.UserByIdentity(ctx, idt.Issuer, idt.Subject)
	if errors.Is(err, store.ErrNotFound) && verified && std.Email != "" {
		if u, err = s.store.UserByEmail(ctx, std.Email); err == nil {
			err = s.store.LinkIdentity(ctx, u.ID, idt.Issuer, idt.Subject)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		if !o.AutoCreate {
			return store.User{}, fail(http.StatusForbidden, "no DocuVault account is linked to this sign-in: ask an admin")
		}
		u, err = s.createOIDCUser(ctx, idt, all, std, verified, groups)
	}
	if err != nil {
		return store.User{}, err
	}
	if !u.IsActive {
		return store.User{}, fail(http.StatusForbidden, "this account is deactivated")
	}
	if len(o.AdminGroups) > 0 {
		role := store.RoleUser
		if intersects(groups, o.AdminGroups) {
			role = store.RoleAdmin
		}
		if role != u.Role {
			updated, err := s.store.UpdateUser(ctx, u.ID, store.UserPatch{Role: &role})
			switch {
			case errors.Is(err, store.ErrLastAdmin):
				s.log.Warn("provider groups would remove the last admin; role kept", "user_id", u.ID)
			case err != nil:
				return store.User{}, err
			default:
				_ = s.store.Audit(ctx, u.ID, "user.role_from_oidc", role, c.RealIP())
				u = updated
			}
		}
	}
	return u, nil
}

// createOIDCUser makes the account of a first login, named by the username claim. A name
// that is taken is refused: it may be someone else's, and only an admin can say otherwise.
func (s *Server) createOIDCUser(ctx context.Context, idt *oidc.IDToken, all map[string]any, std idClaims, verified bool, groups []string) (store.User, error) {
	name, _ := all[defaultString(s.opts.OIDC.UsernameClaim, "preferred_username")].(string)
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || !validText(name) || strings.ContainsFunc(name, isControl) {
		return store.User{}, fail(http.StatusForbidden, "the identity provider sent no usable username")
	}
	if _, err := s.store.UserByUsername(ctx, name); err == nil {
		return store.User{}, fail(http.StatusConflict, fmt.Sprintf("an account named %q exists already: an admin must link it (docuvault user link)", name))
	}
	role := store.RoleUser
	if intersects(groups, s.opts.OIDC.AdminGroups) {
		role = store.RoleAdmin
	}
	u, err := s.store.CreateUser(ctx, store.NewUser{Username: name, PasswordHash: unusablePassword, Role: role, LimitBytes: s.opts.DefaultLimitBytes})
	if errors.Is(err, store.ErrConflict) {
		return store.User{}, fail(http.StatusConflict, fmt.Sprintf("an account named %q exists already: an admin must link it (docuvault user link)", name))
	}
	if err != nil {
		return store.User{}, err
	}
	if err := s.store.LinkIdentity(ctx, u.ID, idt.Issuer, idt.Subject); err != nil {
		return store.User{}, err
	}
	if verified && std.Email != "" {
		if err := s.store.SetEmail(ctx, u.ID, std.Email); err != nil && !errors.Is(err, store.ErrConflict) {
			return store.User{}, err
		}
	}
	_ = s.store.Audit(ctx, u.ID, "user.created_by_oidc", u.Username, "")
	return u, nil
}

// endSessionURL is where the browser goes after a logout of a single sign-on session, or "".
func (s *Server) endSessionURL(c echo.Context, idToken string) string {
	if s.opts.OIDC.Issuer == "" || idToken == "" {
		return ""
	}
	_, _, end, err := s.oidcProvider(c.Request().Context())
	if err != nil || end == "" {
		return ""
	}
	q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {s.publicURL(c) + "/"}, "client_id": {s.opts.OIDC.ClientID}}
	sep := "?"
	if strings.Contains(end, "?") {
		sep = "&"
	}
	return end + sep + q.Encode()
}

func (s *Server) stateKey(ctx context.Context) ([]byte, error) {
	k, err := s.deviceKey(ctx)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte("oidc-state")) // its own key, derived: a device cookie is no state cookie
	return m.Sum(nil), nil
}

func (s *Server) signState(ctx context.Context, st oidcState) (string, error) {
	key, err := s.stateKey(ctx)
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(st)
	payload := base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

func (s *Server) openState(ctx context.Context, v string) (oidcState, bool) {
	payload, sig, ok := strings.Cut(v, ".")
	key, err := s.stateKey(ctx)
	if !ok || err != nil {
		return oidcState{}, false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return oidcState{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var st oidcState
	if err != nil || json.Unmarshal(b, &st) != nil || s.now().Unix() > st.Expires || st.State == "" {
		return oidcState{}, false
	}
	return st, true
}

// claimStrings reads a claim that is a list of strings, or one string.
func claimStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func defaultString(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// authConfig tells the login page how people sign in here.
func (s *Server) authConfig(c echo.Context) error {
	out := map[string]any{"password_login": !s.opts.OIDC.DisablePasswordLogin, "oidc": nil}
	if s.opts.OIDC.Issuer != "" {
		out["oidc"] = map[string]string{"label": defaultString(s.opts.OIDC.ButtonLabel, "Sign in with single sign-on"), "login_url": "/api/auth/oidc/login"}
	}
	return c.JSON(http.StatusOK, out)
}

// requireOIDC answers 404 for the single sign-on routes while it is not configured.
func (s *Server) requireOIDC(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.opts.OIDC.Issuer == "" {
			return echo.ErrNotFound
		}
		return next(c)
	}
}
