package loadgen

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// listGoal is the p95 a first page must stay under on the driver (issue's goals: 20 ms on
// SQLite, 30 ms on PostgreSQL).
func (b *bench) listGoal() time.Duration {
	if b.o.Driver == "postgres" {
		return 30 * time.Millisecond
	}
	return 20 * time.Millisecond
}

// latencyRow is a p50/p95 figure beside a baseline's p50; the ratio is p50 over it.
func latencyRow(name string, p50, p95, base time.Duration, baseLabel string, goal time.Duration, goalOnP50 bool) Row {
	r := Row{Figure: name, Value: "p50 " + ms(p50) + ", p95 " + ms(p95), Baseline: baseLabel + " p50 " + ms(base),
		Num: float64(p95), Base: float64(base), Ratio: float64(p50) / float64(max(base, 1))}
	if goalOnP50 {
		r.Num, r.Goal, r.Met = float64(p50), "p50 < "+ms(goal), met(p50 < goal)
	} else {
		r.Goal, r.Met = "p95 < "+ms(goal), met(p95 < goal)
	}
	return r
}

// listPath is GET /api/documents for query q (all documents when empty) after cursor.
func listPath(q, cursor string) string {
	v := url.Values{"limit": {"50"}}
	if q != "" {
		v.Set("q", q)
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return "/api/documents?" + v.Encode()
}

// walk reads pages of q from the first until pages are read or the list ends; it returns the
// cursor of the last page read and how many were read.
func walk(ctx context.Context, c *apiClient, q string, pages int) (string, int, error) {
	var cursor, last string
	for n := 1; n <= pages; n++ {
		var pg page
		if err := c.get(ctx, listPath(q, cursor), &pg); err != nil {
			return "", 0, err
		}
		last = cursor
		if pg.NextCursor == nil || *pg.NextCursor == "" || n == pages {
			return last, n, nil
		}
		cursor = *pg.NextCursor
	}
	return last, pages, nil
}

// reads measures the lists and every search class over HTTP, beside an authenticated GET of
// the caller's own account.
func (b *bench) reads(ctx context.Context, c *apiClient) error {
	me := func(int) error { return c.get(ctx, "/api/auth/me", nil) }
	_, _, _ = timeIt(min(b.o.Runs, 20), me) // warm connections and caches
	base, _, err := timeIt(b.o.Runs, me)
	if err != nil {
		return err
	}
	const baseLabel = "GET /api/auth/me"
	goal := b.listGoal()
	b.logf("lists and searches, %d runs each", b.o.Runs)
	p50, p95, err := timeIt(b.o.Runs, func(int) error { _, _, err := walk(ctx, c, "", 1); return err })
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	b.rows = append(b.rows, latencyRow("list, first page of 50", p50, p95, base, baseLabel, goal, false))
	deep, n, err := walk(ctx, c, "", 50)
	if err != nil {
		return fmt.Errorf("list to page 50: %w", err)
	}
	p50, p95, err = timeIt(b.o.Runs, func(int) error { return c.get(ctx, listPath("", deep), nil) })
	if err != nil {
		return fmt.Errorf("list page %d: %w", n, err)
	}
	b.rows = append(b.rows, latencyRow(fmt.Sprintf("list, page %d by cursor", n), p50, p95, base, baseLabel, 30*time.Millisecond, false))
	w := b.o.Corpus
	for _, s := range []struct {
		name, q string
		pages   int
	}{
		{"search, a rare word (" + w.RareWord + ")", w.RareWord, 1},
		{"search, two words (" + w.PairA + " " + w.PairB + ")", w.PairA + " " + w.PairB, 1},
		{"search, a common word (the)", "the", 1},
		{"search, a common word, 20 pages in a row", "the", 20},
		{"search, the start of a rare word (" + w.RareWord[:len(w.RareWord)-1] + ")", w.RareWord[:len(w.RareWord)-1], 1},
		{"search, two letters (in)", "in", 1},
		{"search, a word and the start of another (" + w.PairA + " " + w.PairB[:len(w.PairB)-1] + ")", w.PairA + " " + w.PairB[:len(w.PairB)-1], 1},
	} {
		read := 0
		p50, p95, err := timeIt(b.o.Runs, func(int) error { _, n, err := walk(ctx, c, s.q, s.pages); read = n; return err })
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		name := s.name
		if s.pages > 1 && read != s.pages {
			name = fmt.Sprintf("%s (the list ends after %d)", name, read)
		}
		b.rows = append(b.rows, latencyRow(name, p50, p95, base, baseLabel, time.Duration(read)*goal, false))
		b.logf("%s: p95 %s", name, ms(p95))
	}
	return nil
}

// thousand sends 1,000 requests of the kinds a user's session sends (account, list, search),
// so memory is read after work, not only after start.
func (b *bench) thousand(ctx context.Context, c *apiClient) error {
	paths := []string{"/api/auth/me", listPath("", ""), listPath(b.o.Corpus.RareWord, ""), "/api/topics"}
	for i := range 1000 {
		if err := c.get(ctx, paths[i%len(paths)], nil); err != nil {
			return err
		}
	}
	return nil
}
