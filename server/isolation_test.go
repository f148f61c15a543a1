package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// TestIsolationMatrix calls every documents and topics route registered in the router, as
// anonymous, the owner, another user and an admin, and checks who gets what. A new route is
// covered the moment it is registered.
func TestIsolationMatrix(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		owner := e.member("owner")
		other := e.member("other")
		admin := e.admin("root")
		anon := e.anonymous()

		// fixture makes fresh objects for one call: an uploaded document and a topic of the
		// owner, and a system topic.
		fixture := func() (doc, topic, system string) {
			doc = uploadBytes(t, owner, "f.txt", "text/plain", []byte("fixture "+randomSuffix()))
			var tp, sys map[string]any
			owner.call("POST", "/api/topics", map[string]string{"name": "t-" + doc}, 201, &tp)
			admin.call("POST", "/api/admin/topics", map[string]string{"name": "s-" + doc}, 201, &sys)
			return doc, tp["id"].(string), sys["id"].(string)
		}
		bodies := map[string]any{
			"POST /api/documents/upload-url": map[string]any{"filename": "n.txt", "size_bytes": 1},
			"PATCH /api/documents/:id":       map[string]any{"filename": "renamed.txt"},
			"POST /api/topics":               map[string]any{"name": "fresh"},
			"PATCH /api/topics/:id":          map[string]any{"description": "d"},
			"POST /api/admin/topics":         map[string]any{"name": "fresh system"},
			"PATCH /api/admin/topics/:id":    map[string]any{"description": "d"},
		}
		covered := 0
		for _, r := range e.srv.Echo().Routes() {
			if !strings.HasPrefix(r.Path, "/api/documents") && !strings.HasPrefix(r.Path, "/api/topics") && !strings.HasPrefix(r.Path, "/api/admin/topics") {
				continue
			}
			covered++
			key := r.Method + " " + r.Path
			adminArea := strings.HasPrefix(r.Path, "/api/admin/")
			hasID := strings.Contains(r.Path, ":id")
			for _, who := range []string{"anonymous", "other", "admin", "owner"} {
				doc, topic, system := fixture()
				if key == "GET /api/documents/:id/thumbnail" { // 404 until the worker made one
					giveThumbnail(t, e, owner, doc)
				}
				path := r.Path
				switch {
				case adminArea:
					path = strings.ReplaceAll(path, ":id", system)
				case strings.HasPrefix(path, "/api/topics"):
					path = strings.ReplaceAll(path, ":id", topic)
				default:
					path = strings.ReplaceAll(path, ":id", doc)
				}
				body := bodies[key]
				if body == nil && r.Method != http.MethodGet && r.Method != http.MethodDelete {
					body = map[string]any{}
				}
				if key == "POST /api/documents" {
					body = strings.NewReader("") // not multipart: a 400 for those allowed in
				}
				var c *client
				switch who {
				case "anonymous":
					c = anon
				case "other":
					c = other
				case "admin":
					c = admin
				case "owner":
					c = owner
				}
				got := c.status(r.Method, path, body)
				ok := true
				var want string
				switch {
				case who == "anonymous":
					ok, want = got == 401, "401"
				case adminArea && who == "admin", !adminArea && who == "owner":
					ok, want = got != 401 && got != 403 && got != 404 && got < 500, "allowed (not 401/403/404/5xx)"
				case adminArea:
					ok, want = got == 403, "403"
				case who == "admin":
					ok, want = got == 403, "403"
				case hasID: // another user's object
					ok, want = got == 404, "404"
				default: // another user on a collection route: their own, allowed
					ok, want = got != 401 && got != 403 && got != 404 && got < 500, "allowed on their own collection"
				}
				if !ok {
					t.Errorf("%s as %s: %d, want %s", key, who, got, want)
				}
			}
		}
		if covered < 14 {
			t.Fatalf("only %d documents/topics routes found in the router", covered)
		}
	})
}

func TestTopicNamespace(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		alice := e.member("alice")
		bob := e.member("bob")
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Finance", "description": "money"}, 201)
		alice.call("POST", "/api/topics", map[string]string{"name": "Garden"}, 201)
		bob.call("POST", "/api/topics", map[string]string{"name": "Bob only"}, 201)
		var list []map[string]any
		alice.call("GET", "/api/topics", nil, 200, &list)
		if len(list) != 2 || list[0]["name"] != "Finance" || list[0]["system"] != true || list[1]["name"] != "Garden" || list[1]["system"] != false {
			t.Fatalf("alice's topics: %v", list)
		}
	})
}

func TestAdminCreateSystemTopic(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		var tp map[string]any
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Legal"}, 201, &tp)
		if tp["system"] != true {
			t.Fatalf("topic %v", tp)
		}
		var owner *string
		if err := e.store.DB().QueryRow(`SELECT user_id FROM topics WHERE id = $1`, tp["id"]).Scan(&owner); err != nil || owner != nil {
			t.Fatalf("system topic has an owner: %v %v", owner, err)
		}
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "legal"}, 409) // case-insensitive per namespace
		alice := e.member("alice")
		alice.call("POST", "/api/topics", map[string]string{"name": "Legal"}, 201) // own namespace
		alice.call("POST", "/api/topics", map[string]string{"name": "LEGAL"}, 409)
		e.member("bob").call("POST", "/api/topics", map[string]string{"name": "Legal"}, 201)
		alice.call("PATCH", "/api/topics/"+tp["id"].(string), map[string]string{"name": "Mine"}, 403)
		alice.call("DELETE", "/api/topics/"+tp["id"].(string), nil, 403)
		alice.call("POST", "/api/topics", map[string]string{"name": ""}, 422)
	})
}

func TestRegularUserCannotCreateSystemTopic(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.member("alice").call("POST", "/api/admin/topics", map[string]string{"name": "X"}, 403)
	})
}

func TestTopicsRequireAuth(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		anon := e.anonymous()
		anon.call("GET", "/api/topics", nil, 401)
		anon.call("POST", "/api/topics", map[string]string{"name": "X"}, 401)
		anon.call("GET", "/api/admin/topics", nil, 401)
	})
}

func TestDeleteTopicRemovesAssignments(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		id := uploadBytes(t, alice, "a.txt", "text/plain", []byte("x"))
		var tp map[string]any
		alice.call("POST", "/api/topics", map[string]string{"name": "Temp"}, 201, &tp)
		alice.call("PATCH", "/api/documents/"+id, map[string]any{"topic_ids": []any{tp["id"]}}, 200)
		alice.call("DELETE", "/api/topics/"+tp["id"].(string), nil, 204)
		var d map[string]any
		alice.call("GET", "/api/documents/"+id, nil, 200, &d)
		if len(d["topics"].([]any)) != 0 {
			t.Fatalf("assignment survived: %v", d["topics"])
		}
	})
}

// giveThumbnail stores a thumbnail for the owner's document, as the worker does.
func giveThumbnail(t *testing.T, e *env, owner *client, doc string) {
	t.Helper()
	ctx := context.Background()
	key := store.ThumbKeyFor(store.ObjectKeyFor(owner.user.ID, doc))
	if _, err := e.blobs.Put(ctx, key, strings.NewReader("jpeg"), 4, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.store.SetThumbnail(ctx, doc, "image/jpeg"); !ok || err != nil {
		t.Fatalf("SetThumbnail: %v %v", ok, err)
	}
}
