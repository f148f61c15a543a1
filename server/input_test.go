package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// badInputCase is one request carrying text no database could store. In path and body,
// PBAD stands for the bad text escaped for a URL, BAD for it inside a JSON string; DOC and
// TOPIC for ids of real rows.
type badInputCase struct {
	who          string // "member", "admin" or "anonymous"
	method, path string
	body         string
}

var badInputCases = []badInputCase{
	// ids in paths
	{"member", "GET", "/api/documents/PBAD", ""},
	{"member", "GET", "/api/documents/DOCPBAD", ""},
	{"member", "PATCH", "/api/documents/PBAD", `{"filename":"x.pdf"}`},
	{"member", "DELETE", "/api/documents/PBAD", ""},
	{"member", "POST", "/api/documents/PBAD/confirm", ""},
	{"member", "POST", "/api/documents/PBAD/classify", ""},
	{"member", "GET", "/api/documents/PBAD/download", ""},
	{"member", "PATCH", "/api/topics/PBAD", `{"name":"n"}`},
	{"member", "DELETE", "/api/topics/PBAD", ""},
	{"member", "DELETE", "/api/auth/me/tokens/PBAD", ""},
	{"admin", "PATCH", "/api/admin/users/PBAD", `{"is_active":true}`},
	{"admin", "POST", "/api/admin/users/PBAD/reset-password", ""},
	{"admin", "DELETE", "/api/admin/users/PBAD", ""},
	{"admin", "PATCH", "/api/admin/topics/PBAD", `{"name":"n"}`},
	{"admin", "DELETE", "/api/admin/topics/PBAD", ""},
	// query strings and cursors
	{"member", "GET", "/api/documents?q=PBAD", ""},
	{"member", "GET", "/api/documents?status=PBAD", ""},
	{"member", "GET", "/api/documents?topic=PBAD", ""},
	{"member", "GET", "/api/documents?limit=PBAD", ""},
	{"member", "GET", "/api/documents?cursor=PBAD", ""},
	{"member", "GET", "/api/documents?cursor=CURSOR", ""},
	{"member", "GET", "/api/documents?q=invoice&cursor=RCURSOR", ""},
	{"member", "GET", "/api/topics?x=PBAD", ""},
	{"admin", "GET", "/api/admin/audit?cursor=CURSOR", ""},
	{"admin", "GET", "/api/admin/users?x=PBAD", ""},
	// JSON bodies
	{"anonymous", "POST", "/api/auth/login", `{"username":"aliceBAD","password":"x"}`},
	{"anonymous", "POST", "/api/auth/login", `{"username":"alice","password":"xBAD"}`},
	{"anonymous", "POST", "/api/auth/login", `{"username":"alice","password":"x","otp":"1BAD"}`},
	{"member", "POST", "/api/auth/me/password", `{"current_password":"BAD","new_password":"a new long password"}`},
	{"member", "POST", "/api/topics", `{"name":"taxBAD"}`},
	{"member", "POST", "/api/topics", `{"name":"tax2","description":"dBAD"}`},
	{"member", "PATCH", "/api/topics/TOPIC", `{"name":"taxBAD"}`},
	{"member", "PATCH", "/api/topics/TOPIC", `{"description":"dBAD"}`},
	{"member", "POST", "/api/auth/me/tokens", `{"name":"ciBAD"}`},
	{"member", "PUT", "/api/auth/me/settings", `{"ai_provider":"openai","ai_model":"gptBAD"}`},
	{"member", "PATCH", "/api/documents/DOC", `{"topic_ids":["BAD"]}`},
	{"member", "PATCH", "/api/documents/DOC", `{"topic_ids":["TOPICBAD"]}`},
	{"member", "PATCH", "/api/documents/DOC", `{"filename":"aBAD.pdf"}`},
	{"member", "POST", "/api/documents/upload-url", `{"filename":"aBAD.pdf","size_bytes":1}`},
	{"member", "POST", "/api/documents/upload-url", `{"filename":"a.pdf","content_type":"text/plainBAD","size_bytes":1}`},
	{"member", "POST", "/api/documents/upload-url", `{"filename":"a.pdf","content_type":"text/plain; charset=\"BAD\"","size_bytes":1}`},
	{"admin", "POST", "/api/admin/users", `{"username":"bobBAD"}`},
	{"admin", "POST", "/api/admin/topics", `{"name":"sysBAD"}`},
	{"admin", "POST", "/api/admin/topics", `{"name":"sys","description":"BAD"}`},
	{"admin", "PATCH", "/api/admin/topics/SYSTOPIC", `{"description":"BAD"}`},
}

// TestPostgresNulBytes sends a NUL byte in every id, query parameter, cursor and JSON string
// field the API reads: PostgreSQL cannot store it (SQLSTATE 22021). Every route answers 4xx
// with a JSON detail and changes nothing, on both databases alike.
func TestPostgresNulBytes(t *testing.T) {
	runBadInput(t, "\x00", `\u0000`)
}

// TestInvalidUTF8 does the same with bytes that are not UTF-8 (encoding/json would quietly
// turn them into U+FFFD; PostgreSQL refuses them in paths and queries).
func TestInvalidUTF8(t *testing.T) {
	runBadInput(t, "\xff\xfe", "\xff\xfe")
}

func runBadInput(t *testing.T, raw, inJSON string) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		m := e.member("alice")
		a := e.admin("root")
		var tk struct {
			DocumentID string `json:"document_id"`
		}
		m.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.pdf", "size_bytes": 1}, 201, &tk)
		var topic, sys struct{ ID string }
		m.call("POST", "/api/topics", map[string]any{"name": "tax"}, 201, &topic)
		a.call("POST", "/api/admin/topics", map[string]any{"name": "finance"}, 201, &sys)
		cursorOf := func(kind string) string {
			return base64.RawURLEncoding.EncodeToString([]byte(kind + "|" + tk.DocumentID + raw))
		}
		before := fingerprint(t, e)
		for _, tc := range badInputCases {
			escaped := url.PathEscape(raw)
			if strings.Contains(tc.path, "?") {
				escaped = url.QueryEscape(raw)
			}
			r := strings.NewReplacer("PBAD", escaped, "RCURSOR", cursorOf("r|0.5"), "CURSOR", cursorOf("t|2026-01-01T00:00:00Z"),
				"DOC", tk.DocumentID, "SYSTOPIC", sys.ID, "TOPIC", topic.ID)
			path := r.Replace(tc.path)
			var body any
			if tc.body != "" {
				body = strings.ReplaceAll(r.Replace(tc.body), "BAD", inJSON)
			}
			c := map[string]*client{"member": m, "admin": a, "anonymous": e.anonymous()}[tc.who]
			resp := c.request(tc.method, path, body)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out struct {
				Detail any `json:"detail"`
			}
			if resp.StatusCode < 400 || resp.StatusCode > 499 || json.Unmarshal(b, &out) != nil || out.Detail == nil || out.Detail == "" {
				t.Errorf("%s %s %s: %d %s, want 4xx with a JSON detail", tc.method, tc.path, tc.body, resp.StatusCode, b)
			}
		}
		// The one-shot upload reads its filename and media type from the part's header.
		for _, h := range [][2]string{{`form-data; name="file"; filename="a` + raw + `.pdf"`, "text/plain"},
			{`form-data; name="file"; filename="a.pdf"`, `text/plain; charset="` + raw + `"`}} {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			w, _ := mw.CreatePart(map[string][]string{"Content-Disposition": {h[0]}, "Content-Type": {h[1]}})
			w.Write([]byte("x"))
			mw.Close()
			resp := m.request("POST", "/api/documents", &buf, "Content-Type", mw.FormDataContentType())
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode > 499 || detail(t, b) == nil {
				t.Errorf("one-shot upload with %q / %q: %d %s", h[0], h[1], resp.StatusCode, b)
			}
		}
		if after := fingerprint(t, e); after != before {
			t.Errorf("refused requests changed data:\nbefore %s\nafter  %s", before, after)
		}
		if _, err := e.store.UserByUsername(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	})
}

// fingerprint is the content of every table a refused request could have changed.
func fingerprint(t *testing.T, e *env) string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT id || ':' || username || ':' || COALESCE(ai_provider, '') || ':' || COALESCE(ai_model, '') || ':' || password_hash FROM users`,
		`SELECT id || ':' || filename || ':' || content_type || ':' || status FROM documents`,
		`SELECT id || ':' || name || ':' || description FROM topics`,
		`SELECT document_id || ':' || topic_id FROM document_topics`,
		`SELECT id || ':' || name FROM api_tokens`,
		`SELECT 'login_throttle ' || COUNT(*) FROM login_throttle`,
		`SELECT 'audit_log ' || COUNT(*) FROM audit_log`,
	} {
		rows, err := e.store.DB().Query(q)
		if err != nil {
			t.Fatal(q, err)
		}
		var lines []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, s)
		}
		rows.Close()
		sort.Strings(lines)
		out = append(out, strings.Join(lines, ","))
	}
	return strings.Join(out, "\n")
}

// TestTopicIDsBounded: a PATCH naming 33,000 topics (past SQLite's 32,766 bound parameters)
// is a 400, not a 500, and changes nothing; ids that are not UUIDs are unknown topics.
func TestTopicIDsBounded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		m := e.member("alice")
		var tk struct {
			DocumentID string `json:"document_id"`
		}
		m.call("POST", "/api/documents/upload-url", map[string]any{"filename": "a.pdf", "size_bytes": 1}, 201, &tk)
		var topic struct{ ID string }
		m.call("POST", "/api/topics", map[string]any{"name": "tax"}, 201, &topic)
		m.call("PATCH", "/api/documents/"+tk.DocumentID, map[string]any{"topic_ids": []string{topic.ID}}, 200)
		before := fingerprint(t, e)
		for _, n := range []int{101, 33000} {
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("t%d", i) // short, so 33,000 stay under the 1 MiB body limit
			}
			b := m.call("PATCH", "/api/documents/"+tk.DocumentID, map[string]any{"topic_ids": ids}, 400)
			if !strings.Contains(string(b), "at most 100") {
				t.Fatalf("%d topic_ids: %s", n, b)
			}
		}
		m.call("PATCH", "/api/documents/"+tk.DocumentID, map[string]any{"topic_ids": []string{"not-a-topic"}}, 422)
		if after := fingerprint(t, e); after != before {
			t.Fatalf("refused PATCH changed data")
		}
		ids := []string{topic.ID}
		for len(ids) < 100 {
			ids = append(ids, topic.ID) // repeats are one assignment
		}
		var d struct{ Topics []struct{ ID string } }
		m.call("PATCH", "/api/documents/"+tk.DocumentID, map[string]any{"topic_ids": ids}, 200, &d)
		if len(d.Topics) != 1 {
			t.Fatalf("topics %v", d.Topics)
		}
	})
}

// TestContentTypeBounded: content_type must be type/subtype of token characters, at most
// 255 bytes; names of tokens, topics and models are bounded too.
func TestContentTypeBounded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		m := e.member("alice")
		up := func(ct string) int {
			return m.status("POST", "/api/documents/upload-url", map[string]any{"filename": "a.pdf", "content_type": ct, "size_bytes": 1})
		}
		for _, ct := range []string{"text", "text/", "/plain", "text/pl ain", "text/plain/x", "text/" + strings.Repeat("a", 300)} {
			if code := up(ct); code != 400 {
				t.Errorf("content_type %.40q: %d, want 400", ct, code)
			}
		}
		if code := up("application/vnd.oasis.opendocument.text; charset=utf-8"); code != 201 {
			t.Fatalf("a real media type: %d", code)
		}
		long := strings.Repeat("x", 101)
		m.call("POST", "/api/auth/me/tokens", map[string]any{"name": long}, 422)
		m.call("POST", "/api/auth/me/tokens", map[string]any{"name": "ci\tlog"}, 422)
		m.call("POST", "/api/topics", map[string]any{"name": long}, 422)
		m.call("POST", "/api/topics", map[string]any{"name": "t", "description": strings.Repeat("d", 2001)}, 422)
		m.call("PUT", "/api/auth/me/settings", map[string]any{"ai_model": strings.Repeat("m", 201)}, 422)
		m.call("PUT", "/api/auth/me/settings", map[string]any{"ai_model": "gpt\n4"}, 422)
		e.anonymous().call("POST", "/api/auth/login", map[string]any{"username": strings.Repeat("u", 2000), "password": "x"}, 400)
	})
}

// invisibleRunes make a file name display as something else.
var invisibleRunes = []rune{0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
	0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF, 0x01, 0x1F, 0x7F, 0x85}

// TestFilenameInvisibleCharacters: bidi overrides ("invoice‮fdp.exe" shows as
// "invoiceexe.pdf"), isolates, zero-width and separator characters and control characters
// are refused in filenames at upload-url, one-shot upload and rename.
func TestFilenameInvisibleCharacters(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		m := e.member("alice")
		var tk struct {
			DocumentID string `json:"document_id"`
		}
		m.call("POST", "/api/documents/upload-url", map[string]any{"filename": "plain.pdf", "size_bytes": 1}, 201, &tk)
		before := fingerprint(t, e)
		for _, r := range invisibleRunes {
			name := "invoice" + string(r) + "fdp.exe"
			if code := m.status("POST", "/api/documents/upload-url", map[string]any{"filename": name, "size_bytes": 1}); code != 400 {
				t.Errorf("upload-url with U+%04X: %d", r, code)
			}
			if code := m.status("PATCH", "/api/documents/"+tk.DocumentID, map[string]any{"filename": name}); code != 400 {
				t.Errorf("rename with U+%04X: %d", r, code)
			}
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			w, _ := mw.CreateFormFile("file", name)
			w.Write([]byte("x"))
			mw.Close()
			resp := m.request("POST", "/api/documents", &buf, "Content-Type", mw.FormDataContentType())
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("one-shot upload with U+%04X: %d", r, resp.StatusCode)
			}
		}
		if after := fingerprint(t, e); after != before {
			t.Fatalf("refused filenames changed data")
		}
		// Letters of any script, and marks that are part of them, stay allowed.
		m.call("PATCH", "/api/documents/"+tk.DocumentID, map[string]any{"filename": "Ärzte – عقد.pdf"}, 200)
	})
}

// TestOneShotTruncatedBody: a multipart body that ends before its closing boundary is the
// client's fault (400), told from a blob store failure by where the error came from.
func TestOneShotTruncatedBody(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		m := e.member("alice")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		w, _ := mw.CreateFormFile("file", "cut.txt")
		w.Write(bytes.Repeat([]byte("x"), 10000))
		resp := m.request("POST", "/api/documents", &buf, "Content-Type", mw.FormDataContentType()) // no Close: no final boundary
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || detail(t, b) != "malformed multipart body" {
			t.Fatalf("truncated multipart: %d %s", resp.StatusCode, b)
		}
		var list struct{ Items []any }
		m.call("GET", "/api/documents", nil, 200, &list)
		if len(list.Items) != 0 {
			t.Fatalf("a refused upload left %d documents", len(list.Items))
		}
	})
}
