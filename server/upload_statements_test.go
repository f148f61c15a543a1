package server_test

import (
	"context"
	"database/sql/driver"
	"strings"
	"sync"
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// statementCounter counts the statements (not BEGIN and COMMIT) run through its connections.
type statementCounter struct {
	mu sync.Mutex
	n  int
	qs []string
}

func (c *statementCounter) add(q string) {
	c.mu.Lock()
	c.n++
	c.qs = append(c.qs, strings.Join(strings.Fields(q), " "))
	c.mu.Unlock()
}

// during returns how many statements fn ran, and which.
func (c *statementCounter) during(fn func()) (int, []string) {
	c.mu.Lock()
	c.n, c.qs = 0, nil
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.qs
}

// TestUploadCycleStatementBudget: the three requests of an upload run no more statements than
// they need, on both databases: upload-url reserves and inserts (SQLite: in one transaction
// of two statements; PostgreSQL: in one statement, reserve_upload), the PUT claims and
// finishes, and confirm reads the pending row once (its object key and reserved size; the PUT
// wrote the bytes in place, so no lease is taken), then confirms (SQLite: its confirm UPDATE
// returns the checksum, and it takes the quota row's lock once; PostgreSQL: one statement,
// confirm_upload), then reads the document's topics. Besides the budget:
// another user's confirm (404), a repeated confirm and the quota after them.
func TestUploadCycleStatementBudget(t *testing.T) {
	// Every request of a session pays the session's read and the caller's read; a request
	// that changes nothing in the session does not write it (store.SessionStore). The
	// budgets below are on top of that.
	const session = 2
	budget := map[string]map[string]int{
		store.SQLite: {
			"upload-url": session + 2, // quota reservation (with the count), insert
			"put":        2,           // claim, finish: no session
			"confirm":    session + 6, // the upload's key and reserved size, confirm, quota, duplicate check, topics, suggestions
		},
		store.Postgres: {
			"upload-url": session + 1, // reserve_upload
			"put":        2,           // claim, finish: no session
			"confirm":    session + 4, // the upload's key and reserved size, confirm_upload, topics, suggestions
		},
	}
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			count := &statementCounter{}
			log := &statementLog{seen: map[string]statement{}, count: count}
			e := newEnvWithStore(t, d, "local", []store.Option{
				store.WithConnector(func(c driver.Connector) driver.Connector { return logConnector{c, log} })},
				func(o *server.Options) { o.Providers = []string{"local"} })
			st := e.store
			alice, bob := e.member("alice"), e.member("bob")
			uploadBytes(t, alice, "warm.txt", "text/plain", []byte("warm-up"))

			check := func(step string, fn func()) {
				t.Helper()
				n, qs := count.during(fn)
				limit := budget[d][step]
				if n > limit {
					t.Errorf("%s ran %d statements, budget %d:\n  %s", step, n, limit, strings.Join(qs, "\n  "))
				}
			}
			body := []byte("statement budget")
			var tk uploadTicket
			check("upload-url", func() {
				alice.call("POST", "/api/documents/upload-url", map[string]any{"filename": "b.txt", "content_type": "text/plain", "size_bytes": len(body)}, 201, &tk)
			})
			check("put", func() {
				if code := putBytes(t, tk, body); code != 200 {
					t.Fatalf("PUT: %d", code)
				}
			})
			bob.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 404)
			var doc struct{ Status string }
			check("confirm", func() {
				alice.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200, &doc)
			})
			if doc.Status != store.StatusUploaded {
				t.Fatalf("status after confirm %q", doc.Status)
			}
			var again struct {
				Status    string
				SizeBytes int64 `json:"size_bytes"`
			}
			alice.call("POST", "/api/documents/"+tk.DocumentID+"/confirm", nil, 200, &again)
			if again.Status != store.StatusUploaded || again.SizeBytes != int64(len(body)) {
				t.Fatalf("repeated confirm: %+v", again)
			}
			q, err := st.QuotaOf(ctx, alice.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(len("warm-up") + len(body)); q.UsedBytes != want || q.PendingBytes != 0 || q.DocumentCount != 2 {
				t.Fatalf("quota after confirms: used %d pending %d count %d, want used %d pending 0 count 2",
					q.UsedBytes, q.PendingBytes, q.DocumentCount, want)
			}
		})
	}
}
