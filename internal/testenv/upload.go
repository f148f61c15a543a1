package testenv

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
)

// UploadRequest builds the request an upload ticket asks for: body as the whole request
// (a PUT with headers), or, with form fields (an S3 POST policy), a multipart/form-data body
// with the fields first and body last in the field "file".
func UploadRequest(method, url string, headers, fields map[string]string, body []byte) (*http.Request, error) {
	var r io.Reader = bytes.NewReader(body)
	contentType := ""
	if len(fields) > 0 {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range fields {
			if err := mw.WriteField(k, v); err != nil {
				return nil, err
			}
		}
		fw, err := mw.CreateFormFile("file", "upload")
		if err != nil {
			return nil, err
		}
		fw.Write(body)
		if err := mw.Close(); err != nil {
			return nil, err
		}
		r, contentType = &buf, mw.FormDataContentType()
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// Send sends body to a presigned upload URL with its headers (and the form fields of a POST
// upload), the way a browser or script does, once, and returns the store's status and answer.
// It never stops the test, so any goroutine may call it.
func Send(method, url string, headers, fields map[string]string, body []byte) (int, string, error) {
	req, err := UploadRequest(method, url, headers, fields, body)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg), err
}

// SendUpload is Send that fails the test when the request cannot be sent.
func SendUpload(t testing.TB, method, url string, headers map[string]string, body []byte, fields ...map[string]string) int {
	t.Helper()
	var f map[string]string
	if len(fields) > 0 {
		f = fields[0]
	}
	code, _, err := Send(method, url, headers, f, body)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// SendAsBrowser is Send as the web UI does it. A single-drive MinIO can refuse a write with
// 403 AccessDenied while a concurrent delete in the same prefix removes the folder the write
// is renamed into (minio/minio#15157), and any store may answer a 5xx: the UI sends the same
// upload once more then, and so does this, logging the refusal.
func SendAsBrowser(t testing.TB, method, url string, headers, fields map[string]string, body []byte) (int, string, error) {
	for attempt := 1; ; attempt++ {
		code, msg, err := Send(method, url, headers, fields, body)
		if err != nil || code == http.StatusOK || attempt == 2 || (code != http.StatusForbidden && code < 500) {
			return code, msg, err
		}
		t.Logf("the store refused an upload (%d), sending it again as the web UI does: %s", code, msg)
	}
}
