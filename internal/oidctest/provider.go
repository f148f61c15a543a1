// Package oidctest runs a real OpenID provider (zitadel/oidc's op package) on loopback for
// tests: in-memory users, one confidential client, a login page that signs in whoever the
// test names, key rotation, and a switch that tampers with the next ID token on the wire.
package oidctest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person the provider knows.
type User struct {
	Subject       string
	Username      string
	Email         string
	EmailVerified bool
	Groups        []string
}

// Provider is a running OpenID provider.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string

	st     *storage
	server *httptest.Server

	mu        sync.Mutex
	loginAs   string
	tamperIDT bool
}

// Start runs a provider whose client may redirect to redirectURLs.
func Start(t testing.TB, redirectURLs ...string) *Provider {
	t.Helper()
	st := newStorage()
	p := &Provider{ClientID: "docuvault", ClientSecret: "client-secret-0123456789", st: st}
	st.clients["docuvault"] = &client{id: "docuvault", secret: p.ClientSecret, redirects: redirectURLs}
	mux := http.NewServeMux()
	p.server = httptest.NewServer(mux)
	t.Cleanup(p.server.Close)
	p.Issuer = p.server.URL
	var key [32]byte
	_, _ = rand.Read(key[:])
	provider, err := op.NewOpenIDProvider(p.Issuer, &op.Config{CryptoKey: key, CodeMethodS256: true, AuthMethodPost: true},
		st, op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	callback := op.AuthCallbackURL(provider)
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		p.mu.Lock()
		sub := p.loginAs
		p.mu.Unlock()
		if err := st.finish(id, sub); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	})
	mux.Handle("/", p.tamper(provider))
	return p
}

// AllowRedirect registers one more redirect URL of the client (known once the relying
// party's server listens).
func (p *Provider) AllowRedirect(u string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	c := p.st.clients[p.ClientID]
	c.redirects = append(c.redirects, u)
}

// AddUser adds or replaces a user.
func (p *Provider) AddUser(u User) { p.st.setUser(u) }

// SetGroups changes a user's groups at the provider.
func (p *Provider) SetGroups(subject string, groups ...string) { p.st.setGroups(subject, groups) }

// LoginAs makes the login page sign in this subject.
func (p *Provider) LoginAs(subject string) { p.mu.Lock(); p.loginAs = subject; p.mu.Unlock() }

// RotateKey signs from now on with a new key; the key set publishes both.
func (p *Provider) RotateKey() string { return p.st.rotate() }

// ClaimsInUserinfoOnly leaves the profile, email and groups out of ID tokens: the client
// finds them at the userinfo endpoint only (as Authelia does by default).
func (p *Provider) ClaimsInUserinfoOnly() {
	p.st.mu.Lock()
	p.st.clients[p.ClientID].userinfoOnly = true
	p.st.mu.Unlock()
}

// TamperNextIDToken changes one byte of the signature of the next ID token the token
// endpoint returns.
func (p *Provider) TamperNextIDToken() { p.mu.Lock(); p.tamperIDT = true; p.mu.Unlock() }

// tamper rewrites the token endpoint's answer when asked to.
func (p *Provider) tamper(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		on := p.tamperIDT && r.URL.Path == "/oauth/token"
		if on {
			p.tamperIDT = false
		}
		p.mu.Unlock()
		if !on {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
			if idt, ok := body["id_token"].(string); ok {
				parts := strings.Split(idt, ".")
				sig := []byte(parts[2])
				sig[len(sig)/2] ^= 0x01
				if sig[len(sig)/2] == '.' || sig[len(sig)/2] == '=' {
					sig[len(sig)/2] = 'A'
				}
				parts[2] = string(sig)
				body["id_token"] = strings.Join(parts, ".")
			}
		}
		b, _ := json.Marshal(body)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, bytes.NewReader(b))
	})
}

// signingKey is an RSA key with its id.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (s *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (s *signingKey) Key() any                                    { return s.key }
func (s *signingKey) ID() string                                  { return s.id }

type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.key.PublicKey }

func newKey(n int) *signingKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return &signingKey{id: fmt.Sprintf("key-%d", n), key: k}
}
