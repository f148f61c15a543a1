package server_test

import (
	"net/url"
	"testing"
)

type documentPage struct {
	Items []struct {
		ID        string  `json:"id"`
		Filename  string  `json:"filename"`
		SizeBytes int64   `json:"size_bytes"`
		TrashedAt *string `json:"trashed_at"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
	Total      *int64  `json:"total"`
}

// listIDs pages through a list with query q (limit 2), returning the ids and the first
// page's total.
func listIDs(t *testing.T, c *client, q url.Values) ([]string, *int64) {
	t.Helper()
	q.Set("limit", "2")
	var ids []string
	var total *int64
	for i := 0; ; i++ {
		var page documentPage
		c.call("GET", "/api/documents?"+q.Encode(), nil, 200, &page)
		if i == 0 {
			total = page.Total
		}
		for _, d := range page.Items {
			ids = append(ids, d.ID)
		}
		if page.NextCursor == nil || i > 50 {
			return ids, total
		}
		q.Set("cursor", *page.NextCursor)
	}
}

// TestListSortParameters: sort and order page through the caller's documents with ties in
// name and size; the total comes from the counters; a cursor of one order is 400 in
// another, and so are hostile values of sort, order and trashed, and sort with a search.
func TestListSortParameters(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice, bob := e.member("alice"), e.member("bob")
		uploadBytes(t, bob, "a.txt", "text/plain", []byte("bob"))
		names := []string{"b.txt", "B.txt", "a.txt", "C.txt", "b.txt"}
		bodies := []string{"xx", "xy", "xxx", "x", "yx"} // equal sizes, distinct bytes (not duplicates)
		ids := map[string]string{}
		for i, n := range names {
			ids[n+bodies[i]+string(rune('0'+i))] = uploadBytes(t, alice, n, "text/plain", []byte(bodies[i]))
		}
		byName, total := listIDs(t, alice, url.Values{"sort": {"name"}, "order": {"asc"}})
		if total == nil || *total != 5 || len(byName) != 5 {
			t.Fatalf("by name: %v, total %v", byName, total)
		}
		if byName[0] != ids["a.txtxxx2"] || byName[4] != ids["C.txtx3"] {
			t.Fatalf("by name ascending: %v (%v)", byName, ids)
		}
		bySize, _ := listIDs(t, alice, url.Values{"sort": {"size"}, "order": {"desc"}})
		if len(bySize) != 5 || bySize[0] != ids["a.txtxxx2"] || bySize[4] != ids["C.txtx3"] {
			t.Fatalf("by size descending: %v", bySize)
		}
		newest, _ := listIDs(t, alice, url.Values{})
		oldest, _ := listIDs(t, alice, url.Values{"sort": {"created"}, "order": {"asc"}})
		for i := range newest {
			if newest[i] != oldest[len(oldest)-1-i] {
				t.Fatalf("created orders are not each other's reverse: %v %v", newest, oldest)
			}
		}
		var page documentPage
		alice.call("GET", "/api/documents?sort=name&limit=1", nil, 200, &page)
		cur := *page.NextCursor
		for _, q := range []string{"sort=size&cursor=", "sort=name&order=asc&cursor=", "cursor=", "q=txt&cursor="} {
			alice.call("GET", "/api/documents?"+q+url.QueryEscape(cur), nil, 400)
		}
		alice.call("GET", "/api/documents?sort=name&cursor="+url.QueryEscape(cur), nil, 200)
		var filtered documentPage
		alice.call("GET", "/api/documents?status=classified", nil, 200, &filtered)
		if filtered.Total != nil {
			t.Fatalf("a filtered list has a total: %d", *filtered.Total)
		}
		for _, q := range []string{"sort=NAME", "sort=name%3Bdrop", "sort=%00", "sort=size,name", "order=up", "order=ASC", "order=%00",
			"trashed=yes", "trashed=1", "sort=name&q=txt", "order=asc&q=txt"} {
			alice.call("GET", "/api/documents?"+q, nil, 400)
		}
		alice.call("GET", "/api/documents?sort=created&order=desc&q=txt", nil, 200)
		if code := e.anonymous().status("GET", "/api/documents?sort=name", nil); code != 401 {
			t.Fatalf("anonymous: %d", code)
		}
		if code := e.admin("root").status("GET", "/api/documents?sort=name", nil); code != 403 {
			t.Fatalf("admin: %d", code)
		}
	})
}
