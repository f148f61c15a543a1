package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/docuvault/docuvault/classify"
	"github.com/docuvault/docuvault/server"
)

// Duration is a time.Duration written as "90s", "1h" in TOML and the environment.
type Duration time.Duration

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad duration %q (want e.g. 90s, 15m, 1h)", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Config is every setting of DocuVault; config.example.toml documents each key.
type Config struct {
	Server struct {
		Listen          string   `toml:"listen"`
		BaseURL         string   `toml:"base_url"`
		DataDir         string   `toml:"data_dir"`
		MigrateOnStart  bool     `toml:"migrate_on_start"`
		SessionIdle     Duration `toml:"session_idle_timeout"`
		SessionLifetime Duration `toml:"session_lifetime"`
		LogFormat       string   `toml:"log_format"`
		LogLevel        string   `toml:"log_level"`
		ShutdownTimeout Duration `toml:"shutdown_timeout"`
		MetricsToken    string   `toml:"metrics_token"`
		TrustedProxies  []string `toml:"trusted_proxies"`
		// Limits on one request and one connection (server/timeouts.go).
		RequestTimeout    Duration `toml:"request_timeout"`
		UploadTimeout     Duration `toml:"upload_timeout"`
		BodyTimeout       Duration `toml:"body_timeout"`
		ReadHeaderTimeout Duration `toml:"read_header_timeout"`
		IdleTimeout       Duration `toml:"idle_timeout"`
	} `toml:"server"`
	Database struct {
		Driver string `toml:"driver"`
		DSN    string `toml:"dsn"`
	} `toml:"database"`
	Blob struct {
		Backend      string   `toml:"backend"`
		LocalDir     string   `toml:"local_dir"`
		UploadSecret string   `toml:"upload_secret"`
		UploadURLTTL Duration `toml:"upload_url_ttl"`
	} `toml:"blob"`
	S3 struct {
		Endpoint       string `toml:"endpoint"`
		PublicEndpoint string `toml:"public_endpoint"`
		AccessKey      string `toml:"access_key"`
		SecretKey      string `toml:"secret_key"`
		Bucket         string `toml:"bucket"`
		Region         string `toml:"region"`
		UseSSL         bool   `toml:"use_ssl"`
	} `toml:"s3"`
	Quota struct {
		DefaultLimitBytes   int64    `toml:"default_limit_bytes"`
		MaxUploadBytes      int64    `toml:"max_upload_bytes"`
		PendingTTL          Duration `toml:"pending_ttl"`
		PendingAllowance    int64    `toml:"pending_allowance"`
		MaxConcurrentUpload int      `toml:"max_concurrent_uploads"`
		AllowedContentTypes []string `toml:"allowed_content_types"`
	} `toml:"quota"`
	Documents struct {
		Duplicates string `toml:"duplicates"`
		TrashDays  int    `toml:"trash_days"`
	} `toml:"documents"`
	Jobs struct {
		DrainInterval     Duration `toml:"drain_interval"`
		ExpiryInterval    Duration `toml:"expiry_interval"`
		ReconcileInterval Duration `toml:"reconcile_interval"`
		IntegrityInterval Duration `toml:"integrity_interval"`
	} `toml:"jobs"`
	Classify struct {
		Workers         int      `toml:"workers"`
		DefaultProvider string   `toml:"default_provider"`
		MaxAttempts     int      `toml:"max_attempts"`
		PollInterval    Duration `toml:"poll_interval"`
		Lease           Duration `toml:"lease"`
		Timeout         Duration `toml:"timeout"`
		MinConfidence   float64  `toml:"min_confidence"`
		MaxTopics       int      `toml:"max_topics"`
		Margin          float64  `toml:"margin"`
		MaxTextChars    int      `toml:"max_text_chars"`
	} `toml:"classify"`
	OpenAI struct {
		APIKey  string `toml:"api_key"`
		BaseURL string `toml:"base_url"`
		Model   string `toml:"model"`
	} `toml:"openai"`
	Anthropic struct {
		APIKey  string `toml:"api_key"`
		BaseURL string `toml:"base_url"`
		Model   string `toml:"model"`
	} `toml:"anthropic"`
	Ollama struct {
		BaseURL string `toml:"base_url"`
		Model   string `toml:"model"`
	} `toml:"ollama"`
}

// defaultConfig is what DocuVault runs on with no file and no environment.
func defaultConfig() Config {
	var c Config
	c.Server.Listen = "127.0.0.1:8080"
	c.Server.DataDir = "./data"
	c.Server.MigrateOnStart = true
	c.Server.SessionIdle = Duration(24 * time.Hour)
	c.Server.SessionLifetime = Duration(7 * 24 * time.Hour)
	c.Server.LogFormat = "text"
	c.Server.LogLevel = "info"
	c.Server.ShutdownTimeout = Duration(20 * time.Second)
	c.Server.RequestTimeout = Duration(30 * time.Second)
	c.Server.UploadTimeout = Duration(30 * time.Minute)
	c.Server.BodyTimeout = Duration(15 * time.Second)
	c.Server.ReadHeaderTimeout = Duration(10 * time.Second)
	c.Server.IdleTimeout = Duration(2 * time.Minute)
	c.Database.Driver = "sqlite"
	c.Blob.Backend = "local"
	c.Blob.UploadURLTTL = Duration(15 * time.Minute)
	c.S3.Bucket = "docuvault"
	c.S3.Region = "us-east-1"
	c.Quota.DefaultLimitBytes = 100 << 20
	c.Quota.MaxUploadBytes = 512 << 20
	c.Quota.PendingTTL = Duration(time.Hour)
	c.Quota.MaxConcurrentUpload = 4
	c.Documents.Duplicates = "reject"
	c.Documents.TrashDays = 30
	c.Jobs.DrainInterval = Duration(time.Minute)
	c.Jobs.ExpiryInterval = Duration(5 * time.Minute)
	c.Jobs.ReconcileInterval = Duration(24 * time.Hour)
	c.Jobs.IntegrityInterval = Duration(24 * time.Hour)
	c.Classify.Workers = 4
	c.Classify.DefaultProvider = "local"
	c.Classify.MaxAttempts = 5
	c.Classify.PollInterval = Duration(5 * time.Second)
	c.Classify.Lease = Duration(2 * time.Minute)
	c.Classify.Timeout = Duration(60 * time.Second)
	c.Classify.MinConfidence = classify.DefaultPolicy.MinConfidence
	c.Classify.MaxTopics = classify.DefaultPolicy.MaxTopics
	c.Classify.Margin = classify.DefaultPolicy.Margin
	c.Classify.MaxTextChars = classify.DefaultMaxTextChars
	c.OpenAI.BaseURL = "https://api.openai.com/v1"
	c.OpenAI.Model = "gpt-4o-mini"
	c.Anthropic.BaseURL = "https://api.anthropic.com"
	c.Anthropic.Model = "claude-3-5-haiku-latest"
	c.Ollama.Model = "llama3.1"
	return c
}

// loadConfig reads the TOML file (if any), applies DOCUVAULT_<SECTION>_<KEY> overrides from
// env, fills derived defaults and validates. Errors name the key.
func loadConfig(path string, env func(string) string) (Config, error) {
	c := defaultConfig()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := toml.NewDecoder(strings.NewReader(string(b))).DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			var sm *toml.StrictMissingError
			if errors.As(err, &sm) {
				return c, fmt.Errorf("config %s: unknown key: %s", path, strings.TrimSpace(sm.String()))
			}
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, env); err != nil {
		return c, err
	}
	if c.Database.DSN == "" && c.Database.Driver == "sqlite" {
		c.Database.DSN = filepath.Join(c.Server.DataDir, "docuvault.db")
	}
	if c.Blob.LocalDir == "" {
		c.Blob.LocalDir = filepath.Join(c.Server.DataDir, "blobs")
	}
	if c.S3.PublicEndpoint == "" {
		c.S3.PublicEndpoint = c.S3.Endpoint
	}
	return c, c.validate()
}

// applyEnv walks the config's sections and keys and reads DOCUVAULT_<SECTION>_<KEY>.
func applyEnv(c *Config, env func(string) string) error {
	root := reflect.ValueOf(c).Elem()
	for i := 0; i < root.NumField(); i++ {
		section := root.Type().Field(i).Tag.Get("toml")
		sv := root.Field(i)
		for j := 0; j < sv.NumField(); j++ {
			key := sv.Type().Field(j).Tag.Get("toml")
			name := "DOCUVAULT_" + strings.ToUpper(section) + "_" + strings.ToUpper(key)
			raw := env(name)
			if raw == "" {
				continue
			}
			if err := setField(sv.Field(j), raw); err != nil {
				return fmt.Errorf("config: %s.%s (%s): %w", section, key, name, err)
			}
		}
	}
	return nil
}

func setField(f reflect.Value, raw string) error {
	if u, ok := f.Addr().Interface().(interface{ UnmarshalText([]byte) error }); ok {
		return u.UnmarshalText([]byte(raw))
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Bool:
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("bad boolean %q", raw)
		}
		f.SetBool(v)
	case reflect.Int, reflect.Int64:
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("bad integer %q", raw)
		}
		f.SetInt(v)
	case reflect.Float64:
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("bad number %q", raw)
		}
		f.SetFloat(v)
	case reflect.Slice:
		var parts []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported type %s", f.Kind())
	}
	return nil
}

// validate stops start-up on the first bad value, naming its key.
func (c Config) validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
	}
	switch c.Database.Driver {
	case "sqlite", "postgres":
	default:
		return bad("database.driver", "unknown driver %q (want sqlite or postgres)", c.Database.Driver)
	}
	if c.Database.DSN == "" {
		return bad("database.dsn", "required for driver %s", c.Database.Driver)
	}
	switch c.Blob.Backend {
	case "local":
	case "s3":
		for _, kv := range [][2]string{{"s3.endpoint", c.S3.Endpoint}, {"s3.access_key", c.S3.AccessKey},
			{"s3.secret_key", c.S3.SecretKey}, {"s3.bucket", c.S3.Bucket}} {
			if kv[1] == "" {
				return bad(kv[0], "required when blob.backend = \"s3\"")
			}
		}
	default:
		return bad("blob.backend", "unknown backend %q (want local or s3)", c.Blob.Backend)
	}
	if c.Blob.UploadSecret != "" && len(c.Blob.UploadSecret) < 16 {
		return bad("blob.upload_secret", "must be at least 16 characters")
	}
	if c.Documents.Duplicates != "reject" && c.Documents.Duplicates != "allow" {
		return bad("documents.duplicates", "unknown policy %q (want reject or allow)", c.Documents.Duplicates)
	}
	if c.Server.Listen == "" {
		return bad("server.listen", "required")
	}
	if c.Server.BaseURL != "" && !strings.HasPrefix(c.Server.BaseURL, "http://") && !strings.HasPrefix(c.Server.BaseURL, "https://") {
		return bad("server.base_url", "must start with http:// or https://")
	}
	if _, err := server.ParseTrustedProxies(c.Server.TrustedProxies); err != nil {
		return bad("server.trusted_proxies", "%v", err)
	}
	switch c.Server.LogFormat {
	case "text", "json":
	default:
		return bad("server.log_format", "want text or json, not %q", c.Server.LogFormat)
	}
	switch c.Server.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("server.log_level", "want debug, info, warn or error, not %q", c.Server.LogLevel)
	}
	positive := map[string]int64{
		"quota.default_limit_bytes": c.Quota.DefaultLimitBytes, "quota.max_upload_bytes": c.Quota.MaxUploadBytes,
		"quota.pending_ttl": int64(c.Quota.PendingTTL), "blob.upload_url_ttl": int64(c.Blob.UploadURLTTL),
		"server.session_idle_timeout": int64(c.Server.SessionIdle), "server.session_lifetime": int64(c.Server.SessionLifetime),
		"classify.workers": int64(c.Classify.Workers), "classify.max_attempts": int64(c.Classify.MaxAttempts),
		"classify.poll_interval": int64(c.Classify.PollInterval), "classify.lease": int64(c.Classify.Lease),
		"classify.timeout": int64(c.Classify.Timeout), "classify.max_topics": int64(c.Classify.MaxTopics),
		"classify.max_text_chars": int64(c.Classify.MaxTextChars), "jobs.drain_interval": int64(c.Jobs.DrainInterval),
		"jobs.expiry_interval": int64(c.Jobs.ExpiryInterval), "jobs.reconcile_interval": int64(c.Jobs.ReconcileInterval),
		"server.request_timeout": int64(c.Server.RequestTimeout), "server.upload_timeout": int64(c.Server.UploadTimeout),
		"server.body_timeout": int64(c.Server.BodyTimeout), "server.read_header_timeout": int64(c.Server.ReadHeaderTimeout),
		"server.idle_timeout":     int64(c.Server.IdleTimeout),
		"jobs.integrity_interval": int64(c.Jobs.IntegrityInterval), "quota.max_concurrent_uploads": int64(c.Quota.MaxConcurrentUpload),
		"documents.trash_days": int64(c.Documents.TrashDays),
	}
	if c.Documents.TrashDays > 36500 {
		return bad("documents.trash_days", "must be at most 36500")
	}
	if c.Classify.MinConfidence < 0 || c.Classify.MinConfidence > 1 {
		return bad("classify.min_confidence", "must be between 0 and 1")
	}
	if c.Classify.Margin < 0 || c.Classify.Margin > 1 {
		return bad("classify.margin", "must be between 0 and 1")
	}
	if c.Quota.PendingAllowance < 0 {
		return bad("quota.pending_allowance", "must be 0 (the user's own limit) or a number of bytes")
	}
	for _, key := range sortedKeys(positive) {
		if positive[key] <= 0 {
			return bad(key, "must be greater than zero")
		}
	}
	if c.Classify.DefaultProvider != "local" && !c.providerEnabled(c.Classify.DefaultProvider) {
		return bad("classify.default_provider", "provider %q is not enabled (set its keys)", c.Classify.DefaultProvider)
	}
	return nil
}

// providerEnabled tells whether a classification provider has what it needs.
func (c Config) providerEnabled(name string) bool {
	switch name {
	case "local":
		return true
	case "openai":
		return c.OpenAI.APIKey != ""
	case "anthropic":
		return c.Anthropic.APIKey != ""
	case "ollama":
		return c.Ollama.BaseURL != ""
	}
	return false
}

func sortedKeys(m map[string]int64) []string {
	return slices.Sorted(maps.Keys(m))
}
