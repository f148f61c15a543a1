package server_test

import (
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
)

type uploadTicket struct {
	DocumentID string            `json:"document_id"`
	UploadURL  string            `json:"upload_url"`
	Method     string            `json:"method"`
	Headers    map[string]string `json:"headers"`
	Fields     map[string]string `json:"fields"`
	ExpiresAt  string            `json:"expires_at"`
}

// putBytes sends body to a presigned upload URL the way a browser would and returns the status.
func putBytes(t *testing.T, tk uploadTicket, body []byte) int {
	t.Helper()
	return testenv.SendUpload(t, tk.Method, tk.UploadURL, tk.Headers, body, tk.Fields)
}

// startUpload runs step 1 and 2 of an upload.
func startUpload(t *testing.T, c *client, name, ct string, body []byte) uploadTicket {
	t.Helper()
	var tk uploadTicket
	c.call("POST", "/api/documents/upload-url", map[string]any{"filename": name, "content_type": ct, "size_bytes": len(body)}, 201, &tk)
	if code := putBytes(t, tk, body); code != 200 {
		t.Fatalf("PUT %s: %d", tk.UploadURL, code)
	}
	return tk
}

// uploadBytes runs the three steps and returns the document id.
func uploadBytes(t *testing.T, c *client, name, ct string, body []byte) string {
	t.Helper()
	tk := startUpload(t, c, name, ct, body)
	c.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200)
	return tk.DocumentID
}
