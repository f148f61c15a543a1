// Package server is DocuVault's HTTP side: the JSON API, the embedded web UI, auth and
// CSRF, and the scheduled maintenance jobs.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/docuvault/docuvault/blob"
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
	Metrics             *Metrics // nil: the server makes its own
	Version             string
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
	uploads   *uploadLimiter // in-flight uploads through this server, per user
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
	if len(o.Providers) == 0 {
		o.Providers = []string{"local"}
	}
	dummy, err := HashPassword("not-a-real-password", o.PasswordParams)
	if err != nil {
		return nil, err
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(o.Store.DB(), o.Store.QueueDepth, o.Store.PendingDeletions)
	}
	s := &Server{opts: o, store: o.Store, rawBlobs: o.Blobs, blobs: countedBlobs{Store: o.Blobs, errs: o.Metrics.blobErrors},
		metrics: o.Metrics, log: o.Logger, now: o.Now, dummyHash: dummy, hashes: newHashLimiter(),
		uploads: newUploadLimiter(o.MaxUploadsPerUser)}

	s.sessions = scs.New()
	if o.Store.Dialect() == store.Postgres {
		s.sessions.Store = postgresstore.NewWithCleanupInterval(o.Store.DB(), 0)
	} else {
		s.sessions.Store = sqlite3store.NewWithCleanupInterval(o.Store.DB(), 0)
	}
	s.sessions.IdleTimeout = o.SessionIdle
	s.sessions.Lifetime = o.SessionLifetime
	s.sessions.Cookie.Name = "docuvault_session"
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.Cookie.Secure = len(o.BaseURL) > 8 && o.BaseURL[:8] == "https://"
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.log.Error("session store failed", "path", r.URL.Path, "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"detail":"database unavailable"}`))
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = echo.ExtractIPDirect() // X-Forwarded-For is not trusted by default
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(s.metrics.instrument)
	e.Use(middleware.Recover())
	e.Use(securityHeaders(o.UploadOrigin))
	e.Use(echo.WrapMiddleware(s.sessions.LoadAndSave))
	e.Use(s.loadCaller)
	e.Use(s.checkCSRF)
	s.e = e
	s.routes()
	s.handler = http.NewCrossOriginProtection().Handler(e)
	return s, nil
}

// Handler is the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Echo exposes the router (tests enumerate its routes).
func (s *Server) Echo() *echo.Echo { return s.e }

// routes registers every endpoint. Groups say who may call: anyone, any signed-in caller,
// a document owner (role user), or an admin.
func (s *Server) routes() {
	e := s.e
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics.handler(s.opts.MetricsToken))
	e.GET("/api/openapi.json", s.openAPI())
	e.PUT("/api/blobs/:token", s.receiveBlob)

	e.GET("/api/auth/csrf", s.csrfToken)
	e.POST("/api/auth/login", s.login)

	auth := e.Group("/api", s.requireAuth)
	auth.POST("/auth/logout", s.logout)
	auth.GET("/auth/me", s.me)
	auth.POST("/auth/me/password", s.changePassword)
	auth.GET("/auth/me/quota", s.myQuota)
	auth.GET("/auth/me/settings", s.getSettings)
	auth.PUT("/auth/me/settings", s.putSettings)
	auth.POST("/auth/me/totp/setup", s.totpSetup)
	auth.POST("/auth/me/totp/enable", s.totpEnable)
	auth.POST("/auth/me/totp/disable", s.totpDisable)
	auth.POST("/auth/me/backup-codes", s.regenerateBackupCodes)
	auth.GET("/auth/me/tokens", s.listTokens)
	auth.POST("/auth/me/tokens", s.createToken)
	auth.DELETE("/auth/me/tokens/:id", s.deleteToken)
	auth.GET("/providers", s.listProviders)

	member := e.Group("/api", s.requireAuth, s.requireRole(store.RoleUser))
	member.POST("/documents/upload-url", s.uploadURL)
	member.POST("/documents", s.uploadOneShot)
	member.GET("/documents", s.listDocuments)
	member.GET("/documents/:id", s.getDocument)
	member.POST("/documents/:id/confirm", s.confirmUpload)
	member.GET("/documents/:id/download", s.downloadDocument)
	member.PATCH("/documents/:id", s.patchDocument)
	member.DELETE("/documents/:id", s.deleteDocument)
	member.POST("/documents/:id/classify", s.reclassify)
	member.GET("/topics", s.listTopics)
	member.POST("/topics", s.createTopic)
	member.PATCH("/topics/:id", s.patchTopic)
	member.DELETE("/topics/:id", s.deleteTopic)

	admin := e.Group("/api/admin", s.requireAuth, s.requireRole(store.RoleAdmin))
	admin.GET("/users", s.adminListUsers)
	admin.POST("/users", s.adminCreateUser)
	admin.PATCH("/users/:id", s.adminPatchUser)
	admin.POST("/users/:id/reset-password", s.adminResetPassword)
	admin.DELETE("/users/:id", s.adminDeleteUser)
	admin.GET("/audit", s.adminAudit)
	admin.GET("/topics", s.adminListTopics)
	admin.POST("/topics", s.adminCreateTopic)
	admin.PATCH("/topics/:id", s.adminPatchTopic)
	admin.DELETE("/topics/:id", s.adminDeleteTopic)

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
