package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
)

// envMap is an environment for run: only the given variables exist.
func envMap(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	data := "DOCUVAULT_SERVER_DATA_DIR"
	badCfg := filepath.Join(dir, "bad.toml")
	os.WriteFile(badCfg, []byte("[database]\ndriver = \"mysql\"\n"), 0o600)
	unknownCfg := filepath.Join(dir, "unknown.toml")
	os.WriteFile(unknownCfg, []byte("[server]\nlisten = \"127.0.0.1:0\"\ncolour = \"blue\"\n"), 0o600)
	cases := []struct {
		name     string
		args     []string
		env      []string
		code     int
		stdout   string
		stderr   string
		noStdout bool
	}{
		{"version", []string{"version"}, nil, 0, "docuvault dev", "", false},
		{"help", []string{"help"}, nil, 0, "Usage:", "", false},
		{"unknown command", []string{"frobnicate"}, nil, 2, "", `unknown command "frobnicate"`, true},
		{"migrate without action", []string{"migrate"}, nil, 2, "", "want up, down or status", true},
		{"migrate bad action", []string{"migrate", "sideways", "-config", ""}, []string{data, filepath.Join(dir, "m0")}, 2, "", "unknown action", true},
		{"migrate status on a new database", []string{"migrate", "status"}, []string{data, filepath.Join(dir, "m1")}, 0, "pending  0001-initial-schema", "", false},
		{"migrate up", []string{"migrate", "up"}, []string{data, filepath.Join(dir, "m2")}, 0, "applied  0021-partial-queue-indexes", "", false},
		{"migrate down", []string{"migrate", "down"}, []string{data, filepath.Join(dir, "m2")}, 0, "migrated down to 0020-upload-functions", "", false},
		{"bad driver from env", []string{"migrate", "status"}, []string{"DOCUVAULT_DATABASE_DRIVER", "mysql"}, 1, "", `config: database.driver: unknown driver "mysql"`, true},
		{"bad driver from file", []string{"migrate", "status", "-config", badCfg}, nil, 1, "", "database.driver", true},
		{"unknown key in file", []string{"serve", "-config", unknownCfg}, nil, 1, "", "colour", true},
		{"bad trusted proxy", []string{"serve"}, []string{"DOCUVAULT_SERVER_TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.0/33"}, 1, "", "server.trusted_proxies", true},
		{"bad duration", []string{"serve"}, []string{"DOCUVAULT_QUOTA_PENDING_TTL", "soon"}, 1, "", "quota.pending_ttl", true},
		{"s3 without credentials", []string{"serve"}, []string{"DOCUVAULT_BLOB_BACKEND", "s3", "DOCUVAULT_S3_ENDPOINT", "x:9000"}, 1, "", "s3.access_key", true},
		{"user create needs a name", []string{"user", "create"}, []string{data, filepath.Join(dir, "u")}, 2, "", "-username is required", true},
		{"user create", []string{"user", "create", "-username", "alice", "-password", "a long password here"}, []string{data, filepath.Join(dir, "u")}, 0, "created user alice", "", false},
		{"user create admin without password", []string{"user", "create", "-username", "boss", "-admin"}, []string{data, filepath.Join(dir, "u")}, 0, "temporary password: ", "", false},
		{"user create duplicate", []string{"user", "create", "-username", "alice", "-password", "a long password here"}, []string{data, filepath.Join(dir, "u")}, 1, "", "conflict", true},
		{"user create short password", []string{"user", "create", "-username", "carl", "-password", "short"}, []string{data, filepath.Join(dir, "u")}, 2, "", "at least 12", true},
		{"user reset-password", []string{"user", "reset-password", "-username", "alice"}, []string{data, filepath.Join(dir, "u")}, 0, "temporary password: ", "", false},
		{"user reset-password unknown", []string{"user", "reset-password", "-username", "nobody"}, []string{data, filepath.Join(dir, "u")}, 1, "", "not found", true},
		{"bad flag", []string{"serve", "-nope"}, nil, 2, "", "flag provided but not defined", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runContext(context.Background(), tc.args, &stdout, &stderr, envMap(tc.env...))
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("stdout %q (want %q), stderr %q (want %q)", stdout.String(), tc.stdout, stderr.String(), tc.stderr)
			}
			if tc.noStdout && stdout.Len() != 0 {
				t.Fatalf("unexpected stdout %q", stdout.String())
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig("", envMap())
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "127.0.0.1:8080" || c.Database.Driver != "sqlite" || c.Database.DSN != filepath.Join("data", "docuvault.db") ||
		c.Blob.LocalDir != filepath.Join("data", "blobs") || c.Quota.DefaultLimitBytes != 104857600 || c.Quota.MaxUploadBytes != 536870912 ||
		time.Duration(c.Quota.PendingTTL) != time.Hour || c.Classify.Workers != 4 || c.Classify.DefaultProvider != "local" || c.Classify.MaxAttempts != 5 {
		t.Fatalf("defaults %+v", c)
	}
}

// TestConfigExampleIsComplete loads config.example.toml (every key with its default) and
// checks it equals the built-in defaults, so the file documents exactly what the binary does.
func TestConfigExampleIsComplete(t *testing.T) {
	c, err := loadConfig("config.example.toml", envMap())
	if err != nil {
		t.Fatal(err)
	}
	d, _ := loadConfig("", envMap())
	// Lists compare by length (an empty TOML list is not nil); the rest of [server] by value.
	cs, ds := c.Server, d.Server
	cs.TrustedProxies, ds.TrustedProxies = nil, nil
	if len(c.Server.TrustedProxies) != len(d.Server.TrustedProxies) || !reflect.DeepEqual(cs, ds) || c.Database != d.Database || c.Blob != d.Blob || c.Jobs != d.Jobs || c.Classify != d.Classify ||
		c.OpenAI != d.OpenAI || c.Anthropic != d.Anthropic || c.Ollama != d.Ollama || c.S3 != d.S3 ||
		c.Quota.DefaultLimitBytes != d.Quota.DefaultLimitBytes || c.Quota.MaxUploadBytes != d.Quota.MaxUploadBytes || c.Quota.PendingTTL != d.Quota.PendingTTL {
		t.Fatalf("config.example.toml differs from the defaults:\n%+v\n%+v", c, d)
	}
	example, _ := os.ReadFile("config.example.toml")
	for _, section := range []string{"server", "database", "blob", "s3", "quota", "jobs", "classify", "openai", "anthropic", "ollama"} {
		if !strings.Contains(string(example), "["+section+"]") {
			t.Errorf("config.example.toml lacks [%s]", section)
		}
	}
}

func TestConfigEnvOverrides(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.toml")
	os.WriteFile(file, []byte("[server]\nlisten = \"0.0.0.0:9000\"\n[quota]\nmax_upload_bytes = 10\n"), 0o600)
	c, err := loadConfig(file, envMap("DOCUVAULT_SERVER_LISTEN", "127.0.0.1:7000", "DOCUVAULT_QUOTA_ALLOWED_CONTENT_TYPES", "application/pdf, text/*",
		"DOCUVAULT_CLASSIFY_WORKERS", "9", "DOCUVAULT_S3_USE_SSL", "true", "DOCUVAULT_OPENAI_API_KEY", "sk", "DOCUVAULT_CLASSIFY_DEFAULT_PROVIDER", "openai"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "127.0.0.1:7000" || c.Quota.MaxUploadBytes != 10 || c.Classify.Workers != 9 || !c.S3.UseSSL ||
		len(c.Quota.AllowedContentTypes) != 2 || c.Quota.AllowedContentTypes[1] != "text/*" || c.Classify.DefaultProvider != "openai" {
		t.Fatalf("overrides %+v", c)
	}
	if _, err := loadConfig("", envMap("DOCUVAULT_CLASSIFY_DEFAULT_PROVIDER", "anthropic")); err == nil || !strings.Contains(err.Error(), "classify.default_provider") {
		t.Fatalf("default provider without key: %v", err)
	}
	if _, err := loadConfig("", envMap("DOCUVAULT_CLASSIFY_WORKERS", "many")); err == nil || !strings.Contains(err.Error(), "classify.workers") {
		t.Fatalf("bad integer: %v", err)
	}
}

// TestServeDefaults starts the real server on its embedded defaults (in a temp data dir) and
// checks that /readyz answers 200, the first admin is announced once, and a signal stops it.
func TestServeDefaults(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr testenv.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"serve"}, &bytes.Buffer{}, &stderr,
			envMap("DOCUVAULT_SERVER_DATA_DIR", dir, "DOCUVAULT_SERVER_LISTEN", addr))
	}()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		resp, err = http.Get("http://" + addr + "/readyz")
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v; log %s", err, resp, stderr.String())
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d; log %s", code, stderr.String())
	}
	log := stderr.String()
	if strings.Count(log, "created the first admin") != 1 || !strings.Contains(log, "password=") {
		t.Fatalf("bootstrap admin not announced: %s", log)
	}
	if _, err := os.Stat(filepath.Join(dir, "docuvault.db")); err != nil {
		t.Fatalf("database not in the data dir: %v", err)
	}
	cfg, _ := loadConfig("", envMap("DOCUVAULT_SERVER_DATA_DIR", dir))
	st, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	topics, err := st.SystemTopics(context.Background())
	st.Close()
	if err != nil || len(topics) != len(starterTopics) {
		t.Fatalf("starter topics: %d, %v", len(topics), err)
	}
	// A second start finds the admin and says nothing about it.
	ctx, cancel = context.WithCancel(context.Background())
	stderr.Reset()
	go func() {
		done <- runContext(ctx, []string{"serve"}, &bytes.Buffer{}, &stderr, envMap("DOCUVAULT_SERVER_DATA_DIR", dir, "DOCUVAULT_SERVER_LISTEN", addr))
	}()
	time.Sleep(500 * time.Millisecond)
	cancel()
	<-done
	if strings.Contains(stderr.String(), "created the first admin") {
		t.Fatal("admin created twice")
	}
}
