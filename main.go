// Command docuvault is a self-hosted document vault in one binary: it serves the API and the
// embedded web UI, runs the migrations, and classifies documents in an in-process pool.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/classify"
	"github.com/docuvault/docuvault/content"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `DocuVault, a self-hosted document vault.

Usage:
  docuvault [serve] [-config FILE]          run the server (the default)
  docuvault migrate up|down|status [-config FILE]
  docuvault user create -username U [-admin] [-password P] [-config FILE]
  docuvault user reset-password -username U [-config FILE]
  docuvault user link -username U (-subject SUB [-issuer URL] | -email E) [-config FILE]
                                            link an account to single sign-on (never by username)
  docuvault add -user U [-config FILE] PATH…  add files, or folders recursively, as U's documents
                                            (progress on a terminal; exit 1 when any was refused)
  docuvault mail rekey [-config FILE]        re-seal every IMAP password with intake.mail_key
                                            (after a rotation; old keys in intake.mail_old_keys)
  docuvault backup -out FILE [-config FILE]   SQLite installs: database and files in one .tar.gz
  docuvault restore -in FILE [-force] [-config FILE]
  docuvault export -out FILE [-user U] [-text] [-config FILE]
                                            one user's documents and manifest.json as a zip
  docuvault import -in FILE -user U [-dry-run] [-config FILE]
                                            a DocuVault export back (skips files already there)
  docuvault import-paperless -in DIR -user U [-dry-run] [-correspondents] [-document-types]
                                            a Paperless-ngx document_exporter folder
  docuvault version
  docuvault healthcheck [-config FILE]      exit 0 when the local server answers /healthz
  docuvault check [-fix] [-config FILE]     integrity: every document's object, size and SHA-256;
                                            orphan objects, stale temp files, quota counters;
                                            exit 1 on problems (-fix repairs what it can)
  docuvault classify eval [-user NAME | -corpus DIR] [-folds K] [-config FILE]
                                            accuracy of the local classifier: top-1, precision
                                            and recall per topic, mistakes (K-fold; 0 = leave-one-out)

Without -config, DocuVault runs on its embedded defaults (SQLite and blobs in ./data,
listening on 127.0.0.1:8080). Every setting can be overridden by DOCUVAULT_<SECTION>_<KEY>.
`

// run is the whole program; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr, os.Getenv)
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, args, stdout, stderr, env)
	case "migrate":
		err = cmdMigrate(ctx, args, stdout, stderr, env)
	case "user":
		err = cmdUser(ctx, args, stdout, stderr, env)
	case "version":
		fmt.Fprintln(stdout, "docuvault", version)
	case "mail":
		err = cmdMail(ctx, args, stdout, stderr, env)
	case "add":
		err = cmdAdd(ctx, args, stdout, stderr, env)
	case "backup":
		err = cmdBackup(ctx, args, stdout, stderr, env)
	case "restore":
		err = cmdRestore(ctx, args, stdout, stderr, env)
	case "check":
		err = cmdCheck(ctx, args, stdout, stderr, env)
	case "classify":
		err = cmdClassify(ctx, args, stdout, stderr, env)
	case "export":
		err = cmdExport(ctx, args, stdout, stderr, env)
	case "import":
		err = cmdImport(ctx, args, stdout, stderr, env)
	case "import-paperless":
		err = cmdImportPaperless(ctx, args, stdout, stderr, env)
	case "healthcheck":
		err = cmdHealthcheck(ctx, args, stderr, env)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "docuvault: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "docuvault: %v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "docuvault: %v\n", err)
		return 1
	}
	return 0
}

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// parseFlags parses a subcommand's flags; -config is common to all.
func parseFlags(name string, args []string, stderr io.Writer, define func(fs *flag.FlagSet)) (string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "TOML configuration file")
	if define != nil {
		define(fs)
	}
	if err := fs.Parse(args); err != nil {
		return "", usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return "", usageError{fmt.Sprintf("%s: unexpected argument %q", name, fs.Arg(0))}
	}
	return *cfgPath, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Server.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Server.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore connects to the configured database.
func openStore(ctx context.Context, cfg Config) (*store.Store, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return store.Open(cctx, cfg.Database.Driver, cfg.Database.DSN, store.WithDuplicates(cfg.Documents.Duplicates))
}

// openBlobs connects to the configured blob store. The local store's upload secret comes
// from the config or, generated once, from the database (shared by every replica).
func openBlobs(ctx context.Context, cfg Config, st *store.Store) (blob.Store, error) {
	if cfg.Blob.Backend == "s3" {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return blob.NewS3(cctx, blob.S3Config{Endpoint: cfg.S3.Endpoint, PublicEndpoint: cfg.S3.PublicEndpoint,
			AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, Bucket: cfg.S3.Bucket, Region: cfg.S3.Region, UseSSL: cfg.S3.UseSSL})
	}
	secret := cfg.Blob.UploadSecret
	if secret == "" {
		var err error
		secret, err = st.Secret(ctx, "upload_token_key", func() string {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			return hex.EncodeToString(b)
		})
		if err != nil {
			return nil, err
		}
	}
	return blob.NewLocal(cfg.Blob.LocalDir, []byte(secret))
}

// prepare opens the database (migrating it up when asked, else requiring it current; either
// way a newer schema is refused) and the blob store.
func prepare(ctx context.Context, cfg Config, migrate bool) (*store.Store, blob.Store, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if migrate {
		err = st.MigrateUp(ctx)
	} else {
		err = requireCurrentSchema(ctx, st)
	}
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	blobs, err := openBlobs(ctx, cfg, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, blobs, nil
}

func requireCurrentSchema(ctx context.Context, st *store.Store) error {
	current, known, err := st.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	if current != known[len(known)-1] {
		return fmt.Errorf("database schema is at %q, this binary needs %q: run `docuvault migrate up`", current, known[len(known)-1])
	}
	return nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	cfgPath, err := parseFlags("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cfgPath, env)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	slog.SetDefault(log)
	st, blobs, err := prepare(ctx, cfg, cfg.Server.MigrateOnStart)
	if err != nil {
		return err
	}
	defer st.Close()
	if res, err := st.DrainDeletions(ctx, blobs, 500); err != nil {
		log.Warn("deletion outbox not drained at start", "err", err)
	} else if res.Deleted+res.Failed > 0 {
		log.Info("deletion outbox drained at start", "deleted", res.Deleted, "failed", res.Failed)
	}

	metrics := server.NewMetrics(st.DB(), st.QueueDepth, st.PendingDeletions)
	reader, err := newContentReader(cfg, log)
	if err != nil {
		return err
	}
	defer reader.PDF.Close()
	pool := newPool(cfg, st, blobs, reader, log, metrics.ObserveClassification)
	opts := serverOptions(cfg, st, blobs, log)
	opts.OCR = server.OCRStatus{Available: reader.OCR != nil, Languages: cfg.OCR.Languages}
	opts.Queue, opts.Metrics = pool, metrics
	if opts.Mail.Keys, err = mailKeyring(ctx, cfg, st); err != nil {
		return err
	}
	srv, err := server.New(opts)
	if err != nil {
		return err
	}
	bootstrap, err := adminBootstrap(ctx, st, env, log)
	if err != nil {
		return err
	}
	jobs, err := srv.StartJobs(jobsConfig(cfg, st))
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		_ = jobs.Stop(ctx)
		return fmt.Errorf("listen on %s (server.listen): %w", cfg.Server.Listen, err)
	}
	httpSrv := srv.HTTPServer()
	// The first admin's password hash (argon2id, 64 MiB, a few hundred milliseconds) is made
	// while the server already answers, so a new instance is ready at once; sign-ins wait
	// for it, so the admin's first login never races its creation.
	booted := make(chan struct{})
	bootErr := make(chan error, 1)
	go func() {
		defer close(booted)
		if bootstrap != nil {
			// Finished even when a shutdown begins meanwhile: half an admin helps nobody.
			if err := bootstrap(context.WithoutCancel(ctx)); err != nil {
				bootErr <- err
			}
		}
	}()
	idle := &idleMemory{}
	httpSrv.Handler = idle.track(waitForBootstrap(httpSrv.Handler, booted))
	go idle.run(ctx)
	pool.Start()
	stopConsume, err := startConsume(ctx, cfg, st, srv.Ingest(), log)
	if err != nil {
		_ = jobs.Stop(ctx)
		_ = pool.Stop(ctx)
		return err
	}
	defer stopConsume()
	log.Info("DocuVault listening", "addr", "http://"+ln.Addr().String(), "version", version,
		"database", cfg.Database.Driver, "blobs", cfg.Blob.Backend)
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()

	var failed error
	select {
	case err := <-errc:
		<-booted
		_ = pool.Stop(context.Background())
		_ = jobs.Stop(context.Background())
		return err
	case failed = <-bootErr:
		log.Error("the first admin could not be created", "err", failed)
	case <-ctx.Done():
	}
	<-booted
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.Server.ShutdownTimeout))
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		log.Warn("connections cut at the deadline", "err", err)
	}
	if err := pool.Stop(sctx); err != nil {
		log.Warn("classification workers cut at the deadline; their documents are released", "err", err)
	}
	if err := jobs.Stop(sctx); err != nil {
		log.Warn("scheduled jobs cut at the deadline", "err", err)
	}
	log.Info("stopped")
	return failed
}

// waitForBootstrap holds sign-ins until the first admin exists (booted is closed).
func waitForBootstrap(next http.Handler, booted <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/auth/login" {
			select {
			case <-booted:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// newPool builds the classification pool with every provider the config enables.
func newPool(cfg Config, st *store.Store, blobs blob.Store, reader *content.Reader, log *slog.Logger, observe func(string, string, time.Duration)) *classify.Pool {
	providers := map[string]classify.Provider{}
	timeout := time.Duration(cfg.Classify.Timeout) // of a provider's answer
	docTimeout := classifyTimeout(cfg, reader.OCR != nil)
	if cfg.providerEnabled("openai") {
		providers["openai"] = classify.NewOpenAI(classify.RemoteConfig{APIKey: cfg.OpenAI.APIKey, BaseURL: cfg.OpenAI.BaseURL, Model: cfg.OpenAI.Model, Timeout: timeout, MaxTextChars: cfg.Classify.MaxTextChars})
	}
	if cfg.providerEnabled("anthropic") {
		providers["anthropic"] = classify.NewAnthropic(classify.RemoteConfig{APIKey: cfg.Anthropic.APIKey, BaseURL: cfg.Anthropic.BaseURL, Model: cfg.Anthropic.Model, Timeout: timeout, MaxTextChars: cfg.Classify.MaxTextChars})
	}
	if cfg.providerEnabled("ollama") {
		providers["ollama"] = classify.NewOllama(classify.RemoteConfig{BaseURL: cfg.Ollama.BaseURL, Model: cfg.Ollama.Model, Timeout: timeout, MaxTextChars: cfg.Classify.MaxTextChars})
	}
	return classify.New(classify.Config{
		Workers:         cfg.Classify.Workers,
		MaxAttempts:     cfg.Classify.MaxAttempts,
		PollInterval:    time.Duration(cfg.Classify.PollInterval),
		Lease:           time.Duration(cfg.Classify.Lease),
		Timeout:         docTimeout,
		Content:         reader,
		DefaultProvider: cfg.Classify.DefaultProvider,
		Policy:          classify.Policy{MinConfidence: cfg.Classify.MinConfidence, MaxTopics: cfg.Classify.MaxTopics, Margin: cfg.Classify.Margin},
		Logger:          log,
		Observe:         observe,
	}, st, blobs, providers)
}

func serverOptions(cfg Config, st *store.Store, blobs blob.Store, log *slog.Logger) server.Options {
	var providers []string
	for _, p := range []string{"local", "openai", "anthropic", "ollama"} {
		if cfg.providerEnabled(p) {
			providers = append(providers, p)
		}
	}
	return server.Options{
		Store: st, Blobs: blobs, Logger: log,
		BaseURL:             cfg.Server.BaseURL,
		SessionIdle:         time.Duration(cfg.Server.SessionIdle),
		SessionLifetime:     time.Duration(cfg.Server.SessionLifetime),
		DefaultLimitBytes:   cfg.Quota.DefaultLimitBytes,
		MaxUploadBytes:      cfg.Quota.MaxUploadBytes,
		AllowedContentTypes: cfg.Quota.AllowedContentTypes,
		UploadURLTTL:        time.Duration(cfg.Blob.UploadURLTTL),
		PendingAllowance:    cfg.Quota.PendingAllowance,
		MaxUploadsPerUser:   cfg.Quota.MaxConcurrentUpload,
		Providers:           providers,
		DefaultProvider:     cfg.Classify.DefaultProvider,
		UploadOrigin:        uploadOrigin(cfg),
		MetricsToken:        cfg.Server.MetricsToken,
		TrustedProxies:      cfg.Server.TrustedProxies,
		ProxyAuth: server.ProxyAuth{Header: cfg.Auth.ProxyHeader, GroupsHeader: cfg.Auth.ProxyGroupsHeader, EmailHeader: cfg.Auth.ProxyEmailHeader,
			AdminGroups: cfg.Auth.ProxyAdminGroups, AutoCreate: cfg.Auth.ProxyAutoCreate},
		OIDC: server.OIDC{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret, Scopes: cfg.OIDC.Scopes,
			ButtonLabel: cfg.OIDC.ButtonLabel, UsernameClaim: cfg.OIDC.UsernameClaim, GroupsClaim: cfg.OIDC.GroupsClaim,
			AdminGroups: cfg.OIDC.AdminGroups, AllowedGroups: cfg.OIDC.AllowedGroups, AutoCreate: cfg.OIDC.AutoCreate,
			DisablePasswordLogin: cfg.OIDC.DisablePasswordLogin, BreakGlassAdmin: cfg.OIDC.BreakGlassAdmin},
		Version: version,
		Mail: intake.MailOptions{Timeout: time.Duration(cfg.Intake.MailTimeout),
			AllowPlaintext: cfg.Intake.MailAllowPlaintext},
		Timeouts: server.Timeouts{
			Request:    time.Duration(cfg.Server.RequestTimeout),
			Upload:     time.Duration(cfg.Server.UploadTimeout),
			Body:       time.Duration(cfg.Server.BodyTimeout),
			ReadHeader: time.Duration(cfg.Server.ReadHeaderTimeout),
			Idle:       time.Duration(cfg.Server.IdleTimeout),
		},
	}
}

func jobsConfig(cfg Config, st *store.Store) server.JobsConfig {
	return server.JobsConfig{
		Distributed:       st.Dialect() == store.Postgres,
		DrainInterval:     time.Duration(cfg.Jobs.DrainInterval),
		ExpiryInterval:    time.Duration(cfg.Jobs.ExpiryInterval),
		PendingTTL:        time.Duration(cfg.Quota.PendingTTL),
		ReconcileInterval: time.Duration(cfg.Jobs.ReconcileInterval),
		IntegrityInterval: time.Duration(cfg.Jobs.IntegrityInterval),
		MailInterval:      time.Duration(cfg.Intake.MailInterval),
		TrashRetention:    time.Duration(cfg.Documents.TrashDays) * 24 * time.Hour,
	}
}

// starterTopics are the system topics a new instance starts with (admins can change them).
var starterTopics = [][2]string{
	{"Finance", "invoice bill bank statement payment receipt salary account credit loan"},
	{"Taxes", "tax return assessment deduction refund revenue office"},
	{"Health", "doctor medical hospital prescription diagnosis health insurance vaccination"},
	{"Insurance", "insurance policy premium claim coverage"},
	{"Home", "rent lease landlord mortgage utilities electricity water heating repair"},
	{"Work", "employment contract employer payslip job application meeting"},
	{"Travel", "flight hotel booking ticket passport visa itinerary"},
	{"Legal", "contract agreement court lawyer notary license"},
	{"Education", "school university course certificate diploma exam"},
}

// adminBootstrap returns the creation of the first account on an empty instance (nil when
// there are users): "admin" with the password in DOCUVAULT_ADMIN_PASSWORD, or a random one
// logged once that must be changed at first login; and the starter system topics. A too
// short DOCUVAULT_ADMIN_PASSWORD is refused at once.
func adminBootstrap(ctx context.Context, st *store.Store, env func(string) string, log *slog.Logger) (func(context.Context) error, error) {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return nil, err
	}
	password, mustChange := env("DOCUVAULT_ADMIN_PASSWORD"), false
	if password == "" {
		password, mustChange = server.RandomPassword(), true
	} else if len(password) < server.MinPasswordLength {
		return nil, fmt.Errorf("DOCUVAULT_ADMIN_PASSWORD must be at least %d characters", server.MinPasswordLength)
	}
	return func(ctx context.Context) error { return createAdmin(ctx, st, log, password, mustChange) }, nil
}

// createAdmin hashes the first admin's password and creates the account and the starter topics.
func createAdmin(ctx context.Context, st *store.Store, log *slog.Logger, password string, mustChange bool) error {
	hash, err := server.HashPassword(password, server.DefaultPasswordParams)
	if err != nil {
		return err
	}
	// argon2id's working memory (64 MiB) is garbage now; hand it back to the OS at once
	// rather than holding it while the instance idles.
	debug.FreeOSMemory()
	_, err = st.CreateUser(ctx, store.NewUser{Username: "admin", PasswordHash: hash, Role: store.RoleAdmin,
		PasswordMustChange: mustChange, LimitBytes: 0})
	if errors.Is(err, store.ErrConflict) {
		return nil // another replica created it first
	}
	if err != nil {
		return err
	}
	for _, t := range starterTopics {
		if _, err := st.CreateTopic(ctx, nil, t[0], t[1]); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	if mustChange {
		log.Warn("created the first admin; this password is shown only once and must be changed at first login",
			"username", "admin", "password", password)
	} else {
		log.Info("created the first admin with DOCUVAULT_ADMIN_PASSWORD", "username", "admin")
	}
	return nil
}

// cmdHealthcheck asks the server on this machine for /healthz (the container's HEALTHCHECK,
// where no curl exists).
func cmdHealthcheck(ctx context.Context, args []string, stderr io.Writer, env func(string) string) error {
	cfgPath, err := parseFlags("healthcheck", args, stderr, nil)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cfgPath, env)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.Server.Listen)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", resp.StatusCode)
	}
	return nil
}

// uploadOrigin is where browsers send presigned uploads when the blobs live in S3.
func uploadOrigin(cfg Config) string {
	if cfg.Blob.Backend != "s3" {
		return ""
	}
	scheme := "http://"
	if cfg.S3.UseSSL {
		scheme = "https://"
	}
	return scheme + cfg.S3.PublicEndpoint
}
