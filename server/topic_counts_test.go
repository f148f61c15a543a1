package server_test

import (
	"fmt"
	"testing"
)

// TestTopicDocumentCounts: GET /api/topics counts, per topic, the caller's documents that
// are not in the trash — never another user's, even for a system topic both use.
func TestTopicDocumentCounts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice, bob, root := e.member("alice"), e.member("bob"), e.admin("root")
		type topic struct {
			ID            string `json:"id"`
			Name          string `json:"name"`
			DocumentCount *int64 `json:"document_count"`
		}
		var mine, system topic
		alice.call("POST", "/api/topics", map[string]string{"name": "mine"}, 201, &mine)
		root.call("POST", "/api/admin/topics", map[string]string{"name": "shared"}, 201, &system)
		var a, b []string
		for i := 0; i < 3; i++ {
			a = append(a, uploadBytes(t, alice, "a.txt", "text/plain", []byte(fmt.Sprint("a", i))))
			b = append(b, uploadBytes(t, bob, "b.txt", "text/plain", []byte(fmt.Sprint("b", i))))
		}
		alice.call("POST", "/api/documents/bulk", bulk(a, "add_topics", system.ID), 200)
		alice.call("POST", "/api/documents/bulk", bulk(a[:1], "add_topics", mine.ID), 200)
		bob.call("POST", "/api/documents/bulk", bulk(b, "add_topics", system.ID), 200)
		alice.call("POST", "/api/documents/"+a[2]+"/trash", nil, 200)
		bob.call("DELETE", "/api/documents/"+b[2], nil, 204)
		counts := func(c *client) map[string]int64 {
			var list []topic
			c.call("GET", "/api/topics", nil, 200, &list)
			out := map[string]int64{}
			for _, tp := range list {
				if tp.DocumentCount == nil {
					t.Fatalf("topic %s without document_count", tp.Name)
				}
				out[tp.Name] = *tp.DocumentCount
			}
			return out
		}
		if got := counts(alice); got["shared"] != 2 || got["mine"] != 1 || len(got) != 2 {
			t.Fatalf("alice's counts %v", got)
		}
		if got := counts(bob); got["shared"] != 2 || len(got) != 1 {
			t.Fatalf("bob's counts %v", got)
		}
		alice.call("POST", "/api/documents/"+a[2]+"/restore", nil, 200)
		if got := counts(alice); got["shared"] != 3 {
			t.Fatalf("alice's counts after restore %v", got)
		}
		var adminList []topic
		root.call("GET", "/api/admin/topics", nil, 200, &adminList)
		if len(adminList) != 1 || adminList[0].DocumentCount != nil {
			t.Fatalf("admin topic list %+v", adminList)
		}
	})
}
