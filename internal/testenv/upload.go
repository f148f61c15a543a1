package testenv

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// SendUpload sends body to a presigned upload URL with its headers, the way a browser or
// script does, and returns the status.
func SendUpload(t testing.TB, method, url string, headers map[string]string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
