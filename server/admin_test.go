package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/blob"
)

func TestAdminUsers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		admin.call("POST", "/api/admin/users", map[string]string{"username": "x y"}, 422)
		admin.call("POST", "/api/admin/users", map[string]any{"username": "carol", "role": "god"}, 422)
		var created struct {
			User              map[string]any `json:"user"`
			TemporaryPassword string         `json:"temporary_password"`
		}
		admin.call("POST", "/api/admin/users", map[string]any{"username": "carol", "limit_bytes": 5000}, 201, &created)
		admin.call("POST", "/api/admin/users", map[string]any{"username": "carol"}, 409)
		id := created.User["id"].(string)

		alice := e.member("alice")
		uploadBytes(t, alice, "secret-plans.txt", "text/plain", []byte("hello world"))

		var list []map[string]any
		b := admin.call("GET", "/api/admin/users", nil, 200, &list)
		if strings.Contains(string(b), "secret-plans") {
			t.Fatalf("admin user list leaks a document name: %s", b)
		}
		byName := map[string]map[string]any{}
		for _, u := range list {
			byName[u["username"].(string)] = u
		}
		if a := byName["alice"]; a["used_bytes"] != float64(11) || a["document_count"] != float64(1) || a["limit_bytes"] != float64(100<<20) {
			t.Fatalf("alice's usage: %v", a)
		}
		if byName["carol"]["limit_bytes"] != float64(5000) {
			t.Fatalf("carol: %v", byName["carol"])
		}

		var patched map[string]any
		admin.call("PATCH", "/api/admin/users/"+id, map[string]any{"limit_bytes": 9000, "role": "admin"}, 200, &patched)
		if patched["role"] != "admin" {
			t.Fatalf("patch: %v", patched)
		}
		if q, _ := e.store.QuotaOf(context.Background(), id); q.LimitBytes != 9000 {
			t.Fatalf("limit not changed: %+v", q)
		}
		admin.call("PATCH", "/api/admin/users/"+id, map[string]any{"unknown": true}, 400)
		admin.call("PATCH", "/api/admin/users/nope", map[string]any{"is_active": false}, 404)

		var reset struct {
			TemporaryPassword string `json:"temporary_password"`
		}
		admin.call("POST", "/api/admin/users/"+alice.user.ID+"/reset-password", map[string]bool{"reset_totp": true}, 200, &reset)
		alice.call("GET", "/api/auth/me", nil, 401) // sessions ended
		again := e.login("alice", reset.TemporaryPassword)
		again.call("GET", "/api/documents", nil, 403) // must change first

		// Regular users cannot use the admin area.
		bob := e.member("bob")
		bob.call("GET", "/api/admin/users", nil, 403)
		bob.call("POST", "/api/admin/users", map[string]string{"username": "mallory"}, 403)
		e.anonymous().call("GET", "/api/admin/users", nil, 401)
	})
}

func TestLastAdminProtected(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		root := e.admin("root")
		id := root.user.ID
		root.call("PATCH", "/api/admin/users/"+id, map[string]any{"role": "user"}, 409)
		root.call("PATCH", "/api/admin/users/"+id, map[string]any{"is_active": false}, 409)
		root.call("DELETE", "/api/admin/users/"+id, nil, 409)

		second := e.admin("second")
		root.call("PATCH", "/api/admin/users/"+second.user.ID, map[string]any{"is_active": false}, 200)
		root.call("PATCH", "/api/admin/users/"+id, map[string]any{"role": "user"}, 409) // second is inactive
		root.call("PATCH", "/api/admin/users/"+second.user.ID, map[string]any{"is_active": true}, 200)
		root.call("PATCH", "/api/admin/users/"+id, map[string]any{"role": "user"}, 200)
		second = e.login("second", testPassword)
		second.call("DELETE", "/api/admin/users/"+second.user.ID, nil, 409)
	})
}

func TestAdminDeleteUserQueuesObjects(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		alice := e.member("alice")
		id := uploadBytes(t, alice, "a.txt", "text/plain", []byte("aaaa"))
		d, err := e.store.Document(context.Background(), alice.user.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		admin.call("DELETE", "/api/admin/users/"+alice.user.ID, nil, 204)
		admin.call("DELETE", "/api/admin/users/"+alice.user.ID, nil, 404)
		if _, err := e.blobs.Stat(context.Background(), d.ObjectKey); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("object of a deleted user left behind: %v", err)
		}
		if n, _ := e.store.PendingDeletions(context.Background()); n != 0 {
			t.Fatalf("outbox rows left: %d", n)
		}
		e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "alice", "password": testPassword}, 401)
	})
}

func TestAuditLog(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		admin := e.admin("root")
		e.anonymous().call("POST", "/api/auth/login", map[string]string{"username": "root", "password": "wrong password 1"}, 401)
		var created struct {
			TemporaryPassword string `json:"temporary_password"`
		}
		admin.call("POST", "/api/admin/users", map[string]string{"username": "dave"}, 201, &created)
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		b := admin.call("GET", "/api/admin/audit?limit=2", nil, 200, &page)
		if len(page.Items) != 2 || page.NextCursor == nil {
			t.Fatalf("first page: %s", b)
		}
		if page.Items[0]["action"] != "admin.user.create" || page.Items[0]["target"] != "dave" || page.Items[0]["actor_id"] != admin.user.ID {
			t.Fatalf("newest entry: %v", page.Items[0])
		}
		all := string(b)
		for page.NextCursor != nil {
			b = admin.call("GET", "/api/admin/audit?limit=2&cursor="+*page.NextCursor, nil, 200, &page)
			all += string(b)
		}
		for _, want := range []string{"login.failure", "login.success"} {
			if !strings.Contains(all, want) {
				t.Errorf("audit lacks %s: %s", want, all)
			}
		}
		if strings.Contains(all, created.TemporaryPassword) || strings.Contains(all, "wrong password 1") {
			t.Fatalf("audit holds a secret")
		}
		admin.call("GET", "/api/admin/audit?cursor=garbage", nil, 400)
		e.member("eve").call("GET", "/api/admin/audit", nil, 403)
	})
}
