package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/classify"
)

// TestClassificationEndToEnd uploads through the API with the worker pool running: the
// document is classified from the system and own topics within seconds, and a word of its
// content finds it.
func TestClassificationEndToEnd(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		pool := classify.New(classify.Config{Workers: 2, PollInterval: 50 * time.Millisecond, Logger: e.opts.Logger}, e.store, e.blobs, nil)
		e = e.withQueue(pool)
		pool.Start()
		t.Cleanup(func() { _ = pool.Stop(context.Background()) })

		admin := e.admin("root")
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Finance", "description": "invoices, bank statements, taxes"}, 201)
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Health", "description": "doctor, medical, prescription"}, 201)
		alice := e.member("alice")
		alice.call("POST", "/api/topics", map[string]string{"name": "Garden", "description": "plants, seeds, compost"}, 201)
		id := uploadBytes(t, alice, "march.txt", "text/plain", []byte("Your electricity invoice for March: 84 EUR, debited from your bank account."))

		var d struct {
			Status string `json:"status"`
			Topics []struct {
				Name   string `json:"name"`
				System bool   `json:"system"`
			} `json:"topics"`
		}
		deadline := time.Now().Add(10 * time.Second)
		for d.Status != "classified" && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			alice.call("GET", "/api/documents/"+id, nil, 200, &d)
		}
		if d.Status != "classified" || len(d.Topics) == 0 || d.Topics[0].Name != "Finance" || !d.Topics[0].System {
			t.Fatalf("document %+v", d)
		}
		var found struct{ Items []map[string]any }
		alice.call("GET", "/api/documents?q=electricity", nil, 200, &found)
		if len(found.Items) != 1 || found.Items[0]["id"] != id {
			t.Fatalf("search by content: %v", found.Items)
		}
		// Another user's search never sees it.
		bob := e.member("bob")
		bob.call("GET", "/api/documents?q=electricity", nil, 200, &found)
		if len(found.Items) != 0 {
			t.Fatalf("bob found alice's document")
		}
		// Re-queue: 202, and it comes back classified.
		b := alice.call("POST", "/api/documents/"+id+"/classify", nil, 202)
		if !strings.Contains(string(b), `"status":"uploaded"`) {
			t.Fatalf("requeue answer %s", b)
		}
		deadline = time.Now().Add(10 * time.Second)
		for d.Status != "classified" && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			alice.call("GET", "/api/documents/"+id, nil, 200, &d)
		}
		if d.Status != "classified" {
			t.Fatalf("not classified again: %+v", d)
		}
		alice.call("POST", "/api/documents/nope/classify", nil, 404)
		tk := startUpload(t, alice, "unfinished.txt", "text/plain", []byte("x"))
		alice.call("POST", "/api/documents/"+tk.DocumentID+"/classify", nil, 409)
	})
}
