// Package server is DocuVault's HTTP side: the JSON API, the embedded web UI, auth and
// CSRF, and the scheduled maintenance jobs.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

// Queue is told when a document is ready for classification, with the request that made
// it ready (so the worker's log lines carry the same request ID).
type Queue interface {
	NotifyDocument(documentID, requestID string)
}

// Options wire a Server.
type Options struct {
	Store  *store.Store
	Blobs  blob.Store
	Logger *slog.Logger
	Now    func() time.Time // injected clock (TOTP, throttling)
	Queue  Queue            // may be nil

	BaseURL             string // public URL; https:// turns on Secure cookies
	SessionIdle         time.Duration
	SessionLifetime     time.Duration
	PasswordParams      PasswordParams
	DefaultLimitBytes   int64
	MaxUploadBytes      int64
	AllowedContentTypes []string
	UploadURLTTL        time.Duration
	PendingAllowance    int64    // bytes a user's pending uploads may hold beyond the limit; 0: the limit itself
	MaxUploadsPerUser   int      // concurrent uploads through this server per user (default 4)
	Providers           []string // enabled classification providers
	DefaultProvider     string   // used when a user has not chosen
	UploadOrigin        string   // origin browsers upload to besides this one (the S3 public endpoint)
	MetricsToken        string
	TrustedProxies      []string  // CIDRs whose X-Forwarded-For / X-Real-IP name the client
	ProxyAuth           ProxyAuth // forward authentication by those proxies (off when Header is "")
	OIDC                OIDC      // single sign-on (off when Issuer is "")
	Metrics             *Metrics  // nil: the server makes its own
	Version             string
	Timeouts            Timeouts // zero fields take their defaults
	OCR                 OCRStatus
	// Mail sets up mail intake; the server fills in its store and ingest path, and a nil
	// Keys uses the database's instance key.
	Mail intake.MailOptions
}

// OCRStatus tells /readyz whether scans get their text recognised.
type OCRStatus struct {
	Available bool   `json:"available"`
	Languages string `json:"languages"`
}

// Server serves the API and the UI.
type Server struct {
	opts      Options
	store     *store.Store
	blobs     blob.Store // counts failures for /metrics
	rawBlobs  blob.Store // the store itself, for its optional interfaces
	metrics   *Metrics
	log       *slog.Logger
	now       func() time.Time
	sessions  *scs.SessionManager
	e         *echo.Echo
	handler   http.Handler
	dummyHash string // verified for unknown users so their logins cost the same
	hashes    hashLimiter
	uploads   *uploadLimiter  // in-flight uploads through this server, per user
	ingest    *ingest.Service // one-shot uploads and confirms, shared with the other intake paths
	trusted   []*net.IPNet    // server.trusted_proxies
	oidc      oidcClient

	mailMu sync.Mutex
	mail   *intake.Mail // built on first use (mailIntake)

	deviceMu     sync.Mutex
	deviceSecret []byte // key of the known-device cookie, loaded on first use
}

// New builds the server and its routes.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Blobs == nil {
		return nil, errors.New("server: store and blob store are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PasswordParams == (PasswordParams{}) {
		o.PasswordParams = DefaultPasswordParams
	}
	if o.SessionIdle == 0 {
		o.SessionIdle = 24 * time.Hour
	}
	if o.SessionLifetime == 0 {
		o.SessionLifetime = 7 * 24 * time.Hour
	}
	if o.UploadURLTTL == 0 {
		o.UploadURLTTL = 15 * time.Minute
	}
	if o.DefaultLimitBytes == 0 {
		o.DefaultLimitBytes = 100 << 20
	}
	if o.MaxUploadsPerUser <= 0 {
		o.MaxUploadsPerUser = 4
	}
	if o.MaxUploadBytes == 0 {
		o.MaxUploadBytes = 512 << 20
	}
	o.Timeouts.defaults()
	if len(o.Providers) == 0 {
		o.Providers = []string{"local"}
	}
	trusted, err := ParseTrustedProxies(o.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("server: trusted proxies: %w", err)
	}
	dummy, err := dummyHash(o.PasswordParams)
	if err != nil {
		return nil, err
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(o.Store.DB(), o.Store.QueueDepth, o.Store.PendingDeletions)
	}
	s := &Server{opts: o, store: o.Store, rawBlobs: o.Blobs, blobs: countedBlobs{Store: o.Blobs, errs: o.Metrics.blobErrors},
		metrics: o.Metrics, log: o.Logger, now: o.Now, dummyHash: dummy, hashes: newHashLimiter(),
		uploads: newUploadLimiter(o.MaxUploadsPerUser), trusted: trusted}
	s.oidc.http = &http.Client{Timeout: 10 * time.Second}
	s.ingest = ingest.New(ingest.Options{Store: o.Store, Blobs: s.blobs, Queue: o.Queue, Logger: o.Logger,
		MaxUploadBytes: o.MaxUploadBytes, PendingAllowance: o.PendingAllowance, AllowedContentTypes: o.AllowedContentTypes})

	s.sessions = scs.New()
	// The store honours request deadlines (expired rows go in a scheduled job) and leaves out a
	// save that only moves the idle expiry by less than a minute (or a 60th of the idle
	// timeout); the codec encodes an unchanged session to the same bytes so it can tell.
	s.sessions.Store = o.Store.Sessions(min(time.Minute, o.SessionIdle/60))
	s.sessions.Codec = sessionCodec{}
	s.sessions.IdleTimeout = o.SessionIdle
	s.sessions.Lifetime = o.SessionLifetime
	s.sessions.Cookie.Name = "docuvault_session"
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.Cookie.Secure = len(o.BaseURL) > 8 && o.BaseURL[:8] == "https://"
	s.sessions.ErrorFunc = s.sessionFailed

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = clientIPExtractor(trusted) // X-Forwarded-For only from trusted proxies
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(s.metrics.instrument)
	e.Use(middleware.Recover())
	e.Use(securityHeaders(o.UploadOrigin))
	e.Use(onSessionRoutes(echo.WrapMiddleware(s.loadAndSave), s.loadCaller, s.checkCSRF))
	s.e = e
	s.routes()
	s.handler = s.bodyDeadline(s.requestDeadline(http.NewCrossOriginProtection().Handler(e)))
	return s, nil
}

// Handler is the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Ingest is the path uploads take, for intake that does not come through HTTP.
func (s *Server) Ingest() *ingest.Service { return s.ingest }

// Echo exposes the router (tests enumerate its routes).
func (s *Server) Echo() *echo.Echo { return s.e }

// routes registers every endpoint. The middleware on each route says who may call: anyone,
// any signed-in caller, a document owner (role user), or an admin. It is attached per route,
// not per group, because echo runs a group's middleware for unknown paths under it too:
// an unknown /api/ path is a 404 for everyone, never a 401 or 403.
func (s *Server) routes() {
	e := s.e
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics.handler(s.opts.MetricsToken))
	e.GET("/api/openapi.json", s.openAPI())
	e.PUT("/api/blobs/:token", s.receiveBlob)

	e.GET("/api/auth/csrf", s.csrfToken)
	e.POST("/api/auth/login", s.login)
	e.GET("/api/auth/config", s.authConfig)
	e.GET("/api/auth/oidc/login", s.oidcLogin, s.requireOIDC)
	e.GET("/api/auth/oidc/callback", s.oidcCallback, s.requireOIDC)

	signedIn := []echo.MiddlewareFunc{s.requireAuth, s.checkInput}
	auth := e.Group("/api")
	auth.POST("/auth/logout", s.logout, signedIn...)
	auth.GET("/auth/me", s.me, signedIn...)
	auth.POST("/auth/me/password", s.changePassword, signedIn...)
	auth.GET("/auth/me/quota", s.myQuota, signedIn...)
	auth.GET("/auth/me/settings", s.getSettings, signedIn...)
	auth.PUT("/auth/me/settings", s.putSettings, signedIn...)
	auth.POST("/auth/me/totp/setup", s.totpSetup, signedIn...)
	auth.POST("/auth/me/totp/enable", s.totpEnable, signedIn...)
	auth.POST("/auth/me/totp/disable", s.totpDisable, signedIn...)
	auth.POST("/auth/me/backup-codes", s.regenerateBackupCodes, signedIn...)
	auth.GET("/auth/me/tokens", s.listTokens, signedIn...)
	auth.POST("/auth/me/tokens", s.createToken, signedIn...)
	auth.DELETE("/auth/me/tokens/:id", s.deleteToken, signedIn...)
	auth.GET("/providers", s.listProviders, signedIn...)

	owner := []echo.MiddlewareFunc{s.requireAuth, s.requireRole(store.RoleUser), s.checkInput}
	member := e.Group("/api")
	member.POST("/documents/upload-url", s.uploadURL, owner...)
	member.GET("/auth/me/mail-accounts", s.listMailAccounts, owner...)
	member.POST("/auth/me/mail-accounts", s.createMailAccount, owner...)
	member.GET("/auth/me/mail-accounts/:id", s.getMailAccount, owner...)
	member.PATCH("/auth/me/mail-accounts/:id", s.patchMailAccount, owner...)
	member.DELETE("/auth/me/mail-accounts/:id", s.deleteMailAccount, owner...)
	member.POST("/auth/me/mail-accounts/:id/test", s.testMailAccount, owner...)
	member.POST("/documents", s.uploadOneShot, owner...)
	member.GET("/documents", s.listDocuments, owner...)
	member.GET("/documents/zip", s.zipDocuments, owner...)
	member.GET("/export", s.exportAll, owner...)
	member.POST("/documents/bulk", s.bulkDocuments, owner...)
	member.GET("/documents/:id", s.getDocument, owner...)
	member.POST("/documents/:id/confirm", s.confirmUpload, owner...)
	member.GET("/documents/:id/download", s.downloadDocument, owner...)
	member.GET("/documents/:id/preview", s.previewDocument, owner...)
	member.GET("/documents/:id/thumbnail", s.documentThumbnail, owner...)
	member.GET("/documents/:id/text", s.documentText, owner...)
	member.PATCH("/documents/:id", s.patchDocument, owner...)
	member.DELETE("/documents/:id", s.deleteDocument, owner...)
	member.POST("/documents/:id/classify", s.reclassify, owner...)
	member.POST("/documents/:id/trash", s.trashDocument, owner...)
	member.POST("/documents/:id/restore", s.restoreDocument, owner...)
	member.GET("/topics", s.listTopics, owner...)
	member.POST("/topics", s.createTopic, owner...)
	member.PATCH("/topics/:id", s.patchTopic, owner...)
	member.DELETE("/topics/:id", s.deleteTopic, owner...)

	adminOnly := []echo.MiddlewareFunc{s.requireAuth, s.requireRole(store.RoleAdmin), s.checkInput}
	admin := e.Group("/api/admin")
	admin.GET("/users", s.adminListUsers, adminOnly...)
	admin.POST("/users", s.adminCreateUser, adminOnly...)
	admin.PATCH("/users/:id", s.adminPatchUser, adminOnly...)
	admin.POST("/users/:id/reset-password", s.adminResetPassword, adminOnly...)
	admin.DELETE("/users/:id", s.adminDeleteUser, adminOnly...)
	admin.GET("/audit", s.adminAudit, adminOnly...)
	admin.GET("/topics", s.adminListTopics, adminOnly...)
	admin.POST("/topics", s.adminCreateTopic, adminOnly...)
	admin.PATCH("/topics/:id", s.adminPatchTopic, adminOnly...)
	admin.DELETE("/topics/:id", s.adminDeleteTopic, adminOnly...)

	e.POST("/share", s.shareWithoutWorker)

	e.RouteNotFound("/api/*", func(echo.Context) error { return echo.ErrNotFound })
	e.GET("/*", s.ui())
}

// DeleteObjectsNow tries to delete objects whose outbox rows were just written, removing
// the rows of the ones that went; the scheduled drain retries the rest.
func (s *Server) deleteObjectsNow(ctx context.Context, keys ...string) {
	for _, k := range keys {
		if err := s.blobs.Delete(ctx, k); err != nil {
			s.log.Warn("object deletion deferred to the drain", "object_key", k, "err", err)
			continue
		}
		if err := s.store.ForgetDeletion(ctx, k); err != nil {
			s.log.Warn("outbox row kept", "object_key", k, "err", err)
		}
	}
}
