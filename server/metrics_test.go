package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/server"
)

func TestMetrics(t *testing.T) {
	e := newEnv(t, "sqlite", "local", func(o *server.Options) { o.MetricsToken = "scrape-secret" })
	c := e.member("alice")
	uploadBytes(t, c, "a.txt", "text/plain", []byte("hello"))
	c.call("GET", "/api/documents/00000000-0000-0000-0000-000000000000", nil, 404)
	c.call("POST", "/api/documents/upload-url", map[string]any{"filename": "big", "size_bytes": 1 << 40}, 413)

	anon := e.anonymous()
	anon.call("GET", "/metrics", nil, 401)
	anon.bearer = "wrong"
	anon.call("GET", "/metrics", nil, 401)
	anon.bearer = "scrape-secret"
	resp := anon.request("GET", "/metrics", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	text := string(body)
	for _, want := range []string{
		`docuvault_http_requests_total{method="POST",route="/api/documents/:id/confirm",status="200"} 1`,
		`docuvault_http_requests_total{method="GET",route="/api/documents/:id",status="404"} 1`,
		`docuvault_http_request_duration_seconds_bucket{method="POST",route="/api/documents/upload-url"`,
		`docuvault_classification_queue_depth 1`,
		`docuvault_deletion_outbox_size 0`,
		`docuvault_quota_rejections_total 1`,
		`go_sql_max_open_connections{db_name="docuvault"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "00000000-0000") {
		t.Error("metrics label a raw path")
	}
}
