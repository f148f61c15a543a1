package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

func bulk(ids []string, action string, topics ...string) map[string]any {
	body := map[string]any{"ids": ids, "action": action}
	if topics != nil {
		body["topic_ids"] = topics
	}
	return body
}

// documentTopicNames lists the names of a document's topics, sorted.
func documentTopicNames(t *testing.T, c *client, id string) []string {
	t.Helper()
	var d struct {
		Topics []struct {
			Name string `json:"name"`
		} `json:"topics"`
	}
	c.call("GET", "/api/documents/"+id, nil, 200, &d)
	var names []string
	for _, tp := range d.Topics {
		names = append(names, tp.Name)
	}
	slices.Sort(names)
	slices.Sort(names) // the API orders by source and confidence; these tests compare sets
	return names
}

// checkCounters compares the quota row's counters with the user's documents, counted.
func checkCounters(t *testing.T, e *env, userID string) {
	t.Helper()
	var used, trash, docs, trashed, wantUsed, wantTrash, wantDocs, wantTrashed int64
	if err := e.store.DB().QueryRow(`SELECT used_bytes, trash_bytes, document_count, trash_count FROM quotas WHERE user_id = $1`, userID).
		Scan(&used, &trash, &docs, &trashed); err != nil {
		t.Fatal(err)
	}
	if err := e.store.DB().QueryRow(`SELECT
		COALESCE(SUM(CASE WHEN status <> 'pending' THEN size_bytes ELSE 0 END), 0), COALESCE(SUM(CASE WHEN trashed THEN size_bytes ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN trashed THEN 0 ELSE 1 END), 0), COALESCE(SUM(CASE WHEN trashed THEN 1 ELSE 0 END), 0)
		FROM documents WHERE user_id = $1`, userID).Scan(&wantUsed, &wantTrash, &wantDocs, &wantTrashed); err != nil {
		t.Fatal(err)
	}
	if used != wantUsed || trash != wantTrash || docs != wantDocs || trashed != wantTrashed {
		t.Fatalf("counters used %d trash %d documents %d trashed %d; the documents say %d %d %d %d",
			used, trash, docs, trashed, wantUsed, wantTrash, wantDocs, wantTrashed)
	}
}

// TestBulkActions: each action on several documents at once; one foreign or unknown id, or
// a topic the caller cannot see, refuses the whole request and changes nothing; bounds and
// malformed requests are 400; owner-only.
func TestBulkActions(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		alice, bob, root := e.member("alice"), e.member("bob"), e.admin("root")
		var mine, bobs, system struct {
			ID string `json:"id"`
		}
		alice.call("POST", "/api/topics", map[string]string{"name": "mine"}, 201, &mine)
		bob.call("POST", "/api/topics", map[string]string{"name": "bobs"}, 201, &bobs)
		root.call("POST", "/api/admin/topics", map[string]string{"name": "system"}, 201, &system)
		var a []string
		for i := 0; i < 4; i++ {
			a = append(a, uploadBytes(t, alice, fmt.Sprintf("a%d.txt", i), "text/plain", []byte("0123456789")[:i+1]))
		}
		b := uploadBytes(t, bob, "b.txt", "text/plain", []byte("bob"))
		var res struct {
			Action string `json:"action"`
			Count  int    `json:"count"`
		}
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[0], a[1], a[0]}, "add_topics", mine.ID, system.ID), 200, &res)
		if res.Count != 2 || res.Action != "add_topics" {
			t.Fatalf("result %+v", res)
		}
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[0]}, "add_topics", mine.ID), 200)
		if got := documentTopicNames(t, alice, a[0]); !slices.Equal(got, []string{"mine", "system"}) {
			t.Fatalf("topics of a0: %v", got)
		}
		// Refused whole: a topic of another user, an id of another user, an unknown id.
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[2]}, "add_topics", mine.ID, bobs.ID), 422)
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[2], b}, "add_topics", mine.ID), 404)
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[2], a[3], b}, "trash"), 404)
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[2], "0b7f3e4c-58d4-4a57-9a0c-6a7f2d1d8e11"}, "delete"), 404)
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[2], "not an id"}, "delete"), 404)
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[2], "nul\x00"}, "delete"), 400)
		if got := documentTopicNames(t, alice, a[2]); len(got) != 0 {
			t.Fatalf("a refused request assigned %v", got)
		}
		if ids, _ := listIDs(t, alice, url.Values{}); len(ids) != 4 {
			t.Fatalf("a refused request changed the list: %v", ids)
		}
		bob.call("GET", "/api/documents/"+b, nil, 200)
		checkCounters(t, e, alice.user.ID)

		alice.call("POST", "/api/documents/bulk", bulk([]string{a[0], a[1], a[2]}, "trash"), 200)
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[0], a[1]}, "trash"), 200)
		if q := trashQuota(alice); q.UsedBytes != 10 || q.TrashBytes != 6 {
			t.Fatalf("quota after bulk trash %+v", q)
		}
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[0]}, "restore"), 200)
		if ids, total := listIDs(t, alice, url.Values{"trashed": {"true"}}); len(ids) != 2 || *total != 2 {
			t.Fatalf("trash %v", ids)
		}
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[0], a[1]}, "remove_topics", mine.ID), 200)
		if got := documentTopicNames(t, alice, a[0]); !slices.Equal(got, []string{"system"}) {
			t.Fatalf("topics after remove: %v", got)
		}
		checkCounters(t, e, alice.user.ID)
		alice.call("POST", "/api/documents/bulk", bulk([]string{a[1], a[3]}, "delete"), 200, &res)
		if res.Count != 2 {
			t.Fatalf("deleted %+v", res)
		}
		for _, id := range []string{a[1], a[3]} {
			alice.call("GET", "/api/documents/"+id, nil, 404)
			if _, _, err := e.blobs.Open(ctx, store.ObjectKeyFor(alice.user.ID, id)); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("object of %s after bulk delete: %v", id, err)
			}
		}
		if q := trashQuota(alice); q.UsedBytes != 4 || q.TrashBytes != 3 {
			t.Fatalf("quota after bulk delete %+v", q)
		}
		checkCounters(t, e, alice.user.ID)

		tooMany := make([]string, store.MaxBulkIDs+1)
		for i := range tooMany {
			tooMany[i] = a[0]
		}
		for _, body := range []any{bulk(tooMany, "trash"), bulk(nil, "trash"), bulk([]string{}, "trash"), bulk([]string{a[0]}, "shred"),
			bulk([]string{a[0]}, "trash", mine.ID), bulk([]string{a[0]}, "add_topics"), bulk([]string{a[0]}, "add_topics", make([]string, 101)...),
			map[string]any{"ids": a[0], "action": "trash"}, map[string]any{"ids": []string{a[0]}, "action": "trash", "extra": 1}, "[]"} {
			alice.call("POST", "/api/documents/bulk", body, 400)
		}
		alice.call("POST", "/api/documents/bulk", bulk(tooMany[:store.MaxBulkIDs], "trash"), 200)
		if code := e.anonymous().status("POST", "/api/documents/bulk", bulk([]string{a[0]}, "trash")); code != 401 {
			t.Fatalf("anonymous: %d", code)
		}
		if code := root.status("POST", "/api/documents/bulk", bulk([]string{a[0]}, "trash")); code != 403 {
			t.Fatalf("admin: %d", code)
		}
		if code := bob.status("POST", "/api/documents/bulk", bulk([]string{a[0]}, "delete")); code != 404 {
			t.Fatalf("bob deleting alice's: %d", code)
		}
		alice.call("GET", "/api/documents/"+a[0], nil, 200)
	})
}

// TestBulkRacesSingleChanges: bulk actions racing a single delete and each other on the
// same documents, on both databases: every request ends 200/204 or 404 (never 500 nor a
// deadlock), and the quota's counters always agree with the documents.
func TestBulkRacesSingleChanges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		var topic struct {
			ID string `json:"id"`
		}
		alice.call("POST", "/api/topics", map[string]string{"name": "race"}, 201, &topic)
		var ids []string
		for i := 0; i < 12; i++ {
			ids = append(ids, uploadBytes(t, alice, fmt.Sprintf("r%d.txt", i), "text/plain", []byte("0123456789abc")[:1+i]))
		}
		for round := 0; len(ids) > 2; round++ {
			reversed := slices.Clone(ids)
			slices.Reverse(reversed)
			victim := ids[round%len(ids)]
			codes := testenv.Together(4, func(i int) int {
				switch i {
				case 0:
					return alice.status("POST", "/api/documents/bulk", bulk(ids, "trash"))
				case 1:
					return alice.status("POST", "/api/documents/bulk", bulk(reversed, "add_topics", topic.ID))
				case 2:
					return alice.status("POST", "/api/documents/bulk", bulk(reversed[:3], "restore"))
				default:
					return alice.status("DELETE", "/api/documents/"+victim, nil)
				}
			})
			if codes[3] != 204 {
				t.Fatalf("round %d: delete %d", round, codes[3])
			}
			for i, c := range codes[:3] {
				if c != 200 && c != 404 {
					t.Fatalf("round %d: bulk request %d: %d", round, i, c)
				}
			}
			checkCounters(t, e, alice.user.ID)
			ids = slices.DeleteFunc(ids, func(id string) bool { return id == victim })
			alice.call("GET", "/api/documents/"+victim, nil, 404)
		}
	})
}
