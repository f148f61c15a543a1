package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync/atomic"
)

// apiClient calls a running server's API as one user, with an API token.
type apiClient struct {
	base  string
	hc    *http.Client
	token string
	// failed counts requests answered with a 5xx or not answered at all, over every step.
	failed *atomic.Int64
}

// signIn logs username in over HTTP (POST /api/auth/login, a session cookie) and trades the
// session for an API token, which every later request carries.
func signIn(ctx context.Context, base, username, password string, failed *atomic.Int64) (*apiClient, error) {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	session := &apiClient{base: base, hc: &http.Client{Jar: jar, Transport: tr}, failed: failed}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	if err := session.call(ctx, "POST", "/api/auth/login", jsonBody(map[string]string{"username": username, "password": password}),
		map[string]string{"Content-Type": "application/json"}, http.StatusOK, &login); err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", username, err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := session.call(ctx, "POST", "/api/auth/me/tokens", jsonBody(map[string]string{"name": "dvbench"}),
		map[string]string{"Content-Type": "application/json", "X-CSRF-Token": login.CSRF}, http.StatusCreated, &tok); err != nil {
		return nil, fmt.Errorf("api token: %w", err)
	}
	return &apiClient{base: base, hc: &http.Client{Transport: tr}, token: tok.Token, failed: failed}, nil
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// call sends one request (path relative to the server, or an absolute URL) and wants status
// want; out, if not nil, receives the JSON answer.
func (c *apiClient) call(ctx context.Context, method, path string, body io.Reader, headers map[string]string, want int, out any) error {
	url := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		url = c.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if r, ok := body.(interface{ Len() int }); ok {
		req.ContentLength = int64(r.Len())
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.unanswered(ctx)
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		c.failed.Add(1)
	}
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// unanswered counts a request that got no answer, unless the caller gave up on it (a rate
// figure's time is up).
func (c *apiClient) unanswered(ctx context.Context) {
	if ctx.Err() == nil {
		c.failed.Add(1)
	}
}

// get is an authenticated GET that wants 200.
func (c *apiClient) get(ctx context.Context, path string, out any) error {
	return c.call(ctx, "GET", path, nil, nil, http.StatusOK, out)
}

// page is one answer of GET /api/documents.
type page struct {
	Items []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// ticket is the answer of POST /api/documents/upload-url.
type ticket struct {
	DocumentID string            `json:"document_id"`
	UploadURL  string            `json:"upload_url"`
	Method     string            `json:"method"`
	Headers    map[string]string `json:"headers"`
}

// upload runs the three requests of an upload (upload-url, PUT of the bytes, confirm) and
// returns the new document's id (also when a later step failed, so it can be deleted). body yields exactly size bytes.
func (c *apiClient) upload(ctx context.Context, filename, contentType string, size int64, body io.Reader) (string, error) {
	var tk ticket
	if err := c.call(ctx, "POST", "/api/documents/upload-url", jsonBody(map[string]any{"filename": filename, "content_type": contentType, "size_bytes": size}),
		map[string]string{"Content-Type": "application/json"}, http.StatusCreated, &tk); err != nil {
		return "", err
	}
	// No bearer token on the PUT: the signed URL is its only credential.
	req, err := http.NewRequestWithContext(ctx, tk.Method, tk.UploadURL, body)
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	for k, v := range tk.Headers {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.unanswered(ctx)
		return tk.DocumentID, fmt.Errorf("PUT upload: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		c.failed.Add(1)
	}
	if resp.StatusCode != http.StatusOK {
		return tk.DocumentID, fmt.Errorf("PUT upload: %d", resp.StatusCode)
	}
	return tk.DocumentID, c.call(ctx, "POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, nil, http.StatusOK, nil)
}

// uploadText uploads text as a text/plain document.
func (c *apiClient) uploadText(ctx context.Context, filename, text string) (string, error) {
	return c.upload(ctx, filename, "text/plain", int64(len(text)), strings.NewReader(text))
}
