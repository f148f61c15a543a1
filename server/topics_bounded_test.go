package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/docuvault/docuvault/store"
)

// TestTopicsBounded: a user, and the system, can have at most store.MaxTopicsPerOwner
// topics; the next create is a 422 with a clear detail, also when many creates race (on
// both databases), so GET /api/topics stays a bounded array.
func TestTopicsBounded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		m := e.member("alice")
		a := e.admin("root")
		const racers = 30
		fill := func(owner *string, prefix string) { // one statement: filling through the API would be slow
			var rows []string
			var args []any
			for i := 0; i < store.MaxTopicsPerOwner-racers/3; i++ {
				n := len(args)
				rows = append(rows, fmt.Sprintf("($%d, $%d, $%d, $%d, '')", n+1, n+2, n+3, n+4))
				name := fmt.Sprintf("%s %d", prefix, i) // ASCII: its key is its lower case
				args = append(args, uuid.Must(uuid.NewV7()).String(), owner, name, strings.ToLower(name))
			}
			if _, err := e.store.DB().ExecContext(ctx, `INSERT INTO topics (id, user_id, name, name_key, description) VALUES `+strings.Join(rows, ", "), args...); err != nil {
				t.Fatal(err)
			}
		}
		fill(&m.user.ID, "own")
		fill(nil, "system")

		race := func(c *client, path, prefix string) {
			var wg sync.WaitGroup
			codes := make([]int, racers)
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = c.status("POST", path, map[string]any{"name": fmt.Sprintf("%s race %d", prefix, i)})
				}()
			}
			wg.Wait()
			created := 0
			for _, code := range codes {
				switch code {
				case 201:
					created++
				case 422:
				default:
					t.Fatalf("racing create on %s: %d", path, code)
				}
			}
			if created != racers/3 {
				t.Fatalf("%s: %d of %d racing creates succeeded with room for %d", path, created, racers, racers/3)
			}
		}
		race(m, "/api/topics", "own")
		race(a, "/api/admin/topics", "system")

		b := m.call("POST", "/api/topics", map[string]any{"name": "one more"}, 422)
		if d, _ := detail(t, b).(string); !strings.Contains(d, "at most 500 topics") {
			t.Fatalf("detail %q", d)
		}
		b = a.call("POST", "/api/admin/topics", map[string]any{"name": "one more"}, 422)
		if d, _ := detail(t, b).(string); !strings.Contains(d, "the system can have at most 500 topics") {
			t.Fatalf("detail %q", d)
		}
		var list []map[string]any
		m.call("GET", "/api/topics", nil, 200, &list)
		if len(list) != 2*store.MaxTopicsPerOwner {
			t.Fatalf("GET /api/topics: %d topics", len(list))
		}
		// Another user still has room of their own.
		e.member("bob").call("POST", "/api/topics", map[string]any{"name": "own"}, 201)
	})
}
