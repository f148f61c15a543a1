package loadgen

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/docuvault/docuvault/store"
)

// Figure is one measurement: percentiles of a store call beside a raw SQL baseline.
type Figure struct {
	Name          string
	P50, P95      time.Duration
	Baseline      time.Duration // p50 of the baseline statement
	BaselineLabel string
}

// timeIt runs fn n times and returns its p50 and p95.
func timeIt(n int, fn func(i int) error) (time.Duration, time.Duration, error) {
	d := make([]time.Duration, 0, n)
	for i := range n {
		t := time.Now()
		if err := fn(i); err != nil {
			return 0, 0, err
		}
		d = append(d, time.Since(t))
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*95/100], nil
}

// Measure times the hot paths on a seeded corpus: the big user's lists and searches of
// every class, and the writes of an upload's life (create, confirm, classify, rename,
// delete), each beside a raw statement of the same kind.
func Measure(ctx context.Context, st *store.Store, c Corpus, runs int) ([]Figure, error) {
	u := c.Users[0]
	db := st.DB()
	rawList := func(int) error {
		rows, err := db.QueryContext(ctx, `SELECT id FROM documents WHERE user_id = $1 AND trashed = $2 ORDER BY created_at DESC, id DESC LIMIT 50`, u.ID, false)
		if err != nil {
			return err
		}
		return rows.Close()
	}
	base, _, err := timeIt(runs, rawList)
	if err != nil {
		return nil, err
	}
	var out []Figure
	add := func(name string, fn func(int) error) error {
		p50, p95, err := timeIt(runs, fn)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, Figure{Name: name, P50: p50, P95: p95, Baseline: base, BaselineLabel: "raw indexed SELECT of 50 ids"})
		return nil
	}
	list := func(q string, pages int) func(int) error {
		return func(int) error {
			var after *store.Cursor
			for range pages {
				_, next, err := st.ListDocuments(ctx, u.ID, store.DocumentFilter{Query: q, After: after, Limit: 50})
				if err != nil {
					return err
				}
				if next == nil {
					break
				}
				after = next
			}
			return nil
		}
	}
	for _, f := range []struct {
		name string
		fn   func(int) error
	}{
		{"list, first page of 50", list("", 1)},
		{"search, a rare word (" + c.RareWord + ")", list(c.RareWord, 1)},
		{"search, two words (" + c.PairA + " " + c.PairB + ")", list(c.PairA+" "+c.PairB, 1)},
		{"search, a common word (the)", list("the", 1)},
		{"search, a common word, 20 pages in a row", list("the", 20)},
		{"search, the start of a rare word (" + c.RareWord[:len(c.RareWord)-1] + ")", list(c.RareWord[:len(c.RareWord)-1], 1)},
		{"search, two letters (in: in, invoice, insurance, …)", list("in", 1)},
		{"search, a word and the start of another (" + c.PairA + " " + c.PairB[:len(c.PairB)-1] + ")", list(c.PairA+" "+c.PairB[:len(c.PairB)-1], 1)},
	} {
		if err := add(f.name, f.fn); err != nil {
			return nil, err
		}
	}
	// Writes: the baseline is the quota's conditional UPDATE, the one statement a confirm must run.
	rawWrite := func(int) error {
		_, err := db.ExecContext(ctx, `UPDATE quotas SET used_bytes = used_bytes + 0 WHERE user_id = $1 AND used_bytes + 0 <= limit_bytes`, u.ID)
		return err
	}
	wbase, _, err := timeIt(runs, rawWrite)
	if err != nil {
		return nil, err
	}
	ids := make([]string, runs)
	write := func(name string, fn func(i int) error) error {
		p50, p95, err := timeIt(runs, fn)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, Figure{Name: name, P50: p50, P95: p95, Baseline: wbase, BaselineLabel: "raw conditional quota UPDATE"})
		return nil
	}
	steps := []struct {
		name string
		fn   func(i int) error
	}{
		{"upload: create pending", func(i int) error {
			d, err := st.CreatePendingWithin(ctx, u.ID, fmt.Sprintf("bench-%d.txt", i), "text/plain", 1000, 0)
			ids[i] = d.ID
			return err
		}},
		{"upload: confirm", func(i int) error { _, err := st.ConfirmUpload(ctx, u.ID, ids[i], 1000, ""); return err }},
		{"classify: claim and store text", func(int) error {
			j, err := st.ClaimNext(ctx, time.Minute)
			if err != nil {
				return err
			}
			return st.CompleteJob(ctx, j, "an electricity invoice for the flat in march", nil, nil)
		}},
		{"rename", func(i int) error {
			name := fmt.Sprintf("renamed-%d.txt", i)
			_, err := st.UpdateDocument(ctx, u.ID, ids[i], store.DocumentPatch{Filename: &name})
			return err
		}},
		{"delete", func(i int) error { _, err := st.DeleteDocument(ctx, u.ID, ids[i]); return err }},
	}
	for _, s := range steps {
		if err := write(s.name, s.fn); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Print writes the figures as a Markdown table.
func Print(w io.Writer, figs []Figure) {
	fmt.Fprintln(w, "| figure | p50 | p95 | baseline (p50) | ratio p50/baseline |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, f := range figs {
		fmt.Fprintf(w, "| %s | %s | %s | %s: %s | %.1f× |\n", f.Name, round(f.P50), round(f.P95), f.BaselineLabel, round(f.Baseline),
			float64(f.P50)/float64(max(f.Baseline, 1)))
	}
}

func round(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
}
