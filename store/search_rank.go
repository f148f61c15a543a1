package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// BM25's parameters, as SQLite's bm25() and most engines use them.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// dfCap bounds the count of a word's documents that weighs it in a ranking of several words:
// past it a word counts as common, so weighing costs a bounded probe, not a pass over the
// word's whole list.
const dfCap = 1000

// sqliteRanked ranks a search's matches on SQLite, at most the rank limit's worth of them.
// FTS5's bm25() would weigh each word, and the owner's token, by counting every document
// that holds it — a pass over the owner's whole list (100,000 entries for a big user) and
// over a common word's (a million for "the" in "the quokka") before the first row. Instead
// the user's matches within the list's conditions (where, with *args) are read once, and
// each gets BM25 over its name and the start of its text (SnippetTextChars, the snippet's
// source), the words weighed by how many of the user's documents hold them, counted up to
// dfCap. The page is taken after the cursor, in the same order, and read by key.
func (s *Store) sqliteRanked(ctx context.Context, userID string, words []string, prefix bool, after *Cursor, limit int, where []string, args *[]any) (listPlan, error) {
	cargs := append(slices.Clone(*args), sqliteMatch(userID, words, prefix))
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, d.filename, substr(d.text, 1, `+strconv.Itoa(SnippetTextChars)+`)
		FROM documents_fts f CROSS JOIN documents d ON d.search_rowid = f.rowid
		WHERE documents_fts MATCH $`+strconv.Itoa(len(cargs))+` AND `+strings.Join(where, ` AND `)+` LIMIT `+strconv.Itoa(s.rankLimit+1), cargs...)
	if err != nil {
		return listPlan{}, fmt.Errorf("search: rank: %w", err)
	}
	type scored struct {
		id    string
		tf    []int
		len   int
		score float64
	}
	var docs []scored
	f := newFolder()
	folded := make([]string, len(words))
	for i, w := range words {
		folded[i] = f.fold(w)
	}
	total := 0
	for rows.Next() {
		var id, name, text string
		if err := rows.Scan(&id, &name, &text); err != nil {
			rows.Close()
			return listPlan{}, fmt.Errorf("search: rank: %w", err)
		}
		d := scored{id: id, tf: make([]int, len(words))}
		for _, t := range []string{name, text} {
			for _, tok := range tokens(t) {
				d.len++
				w := t[tok.start:tok.end]
				for i := range folded {
					if f.match(w, folded[i:i+1], prefix && i == len(folded)-1) {
						d.tf[i]++
					}
				}
			}
		}
		total += d.len
		docs = append(docs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return listPlan{}, fmt.Errorf("search: rank: %w", err)
	}
	idf := make([]float64, len(words))
	for i := range idf {
		idf[i] = 1 // one word: its weight orders nothing
	}
	if len(words) > 1 && len(docs) > 0 {
		var n float64
		if err := s.db.QueryRowContext(ctx, `SELECT document_count FROM quotas WHERE user_id = $1`, userID).Scan(&n); err != nil {
			return listPlan{}, fmt.Errorf("search: rank: documents: %w", err)
		}
		for i, w := range words {
			pa := []any{userID}
			probe := sqliteSearch(userID, []string{w}, prefix && i == len(words)-1, func(v any) string { pa = append(pa, v); return "$" + strconv.Itoa(len(pa)) })
			df, err := s.countMatches(ctx, probe, pa, dfCap)
			if err != nil {
				return listPlan{}, err
			}
			idf[i] = math.Log(1 + (max(n, float64(df))-float64(df)+0.5)/(float64(df)+0.5))
		}
	}
	avg := 1.0
	if len(docs) > 0 {
		avg = max(1, float64(total)/float64(len(docs)))
	}
	for i := range docs {
		d := &docs[i]
		norm := bm25K1 * (1 - bm25B + bm25B*float64(d.len)/avg)
		for j, tf := range d.tf {
			d.score += idf[j] * float64(tf) * (bm25K1 + 1) / (float64(tf) + norm)
		}
	}
	slices.SortFunc(docs, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	if after != nil {
		docs = slices.DeleteFunc(docs, func(d scored) bool {
			return d.score > after.Score || d.score == after.Score && d.id >= after.ID
		})
	}
	docs = docs[:min(len(docs), limit+1)]
	// The page's documents in rank order, each with its score as text, so the cursor gets the
	// very float64 compared here.
	page := make([][2]string, len(docs))
	for i, d := range docs {
		page[i] = [2]string{d.id, strconv.FormatFloat(d.score, 'g', -1, 64)}
	}
	b, err := json.Marshal(page)
	if err != nil {
		return listPlan{}, fmt.Errorf("search: rank: %w", err)
	}
	*args = append(*args, string(b))
	return listPlan{
		from:  `json_each($` + strconv.Itoa(len(*args)) + `) r CROSS JOIN documents d ON d.id = json_extract(r.value, '$[0]')`,
		score: `json_extract(r.value, '$[1]')`, seq: `0`, order: `r.key`, ranked: true, prefix: prefix,
		// The cursor was applied above, in the ranking.
		after: func(c *Cursor, _ func(any) string) (string, error) {
			if !c.Ranked {
				return "", fmt.Errorf("cursor from another list: %w", ErrInvalid)
			}
			return `1 = 1`, nil
		},
	}, nil
}
