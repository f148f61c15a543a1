package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// sqliteNewest finds a newest-first page of a search on SQLite (the matches with the highest
// index rowids below the cursor). FTS5 walks an AND of two long lists backwards slowly (the
// owner's token and "the": ~20 ms for one page at a million documents, against well under a
// millisecond forwards), so the page is first looked for forwards in a window of the
// anchor's newest entries (sqliteAnchor: the user's, or those with all but the last word):
// the anchor's list, read backwards (fast), gives the window's start a few pages down; the
// match is read forwards from there, keeping the last page. A common word fills the page
// there, at a cost of a few pages; rarer words, whose lists are short enough to walk
// backwards quickly, fall back to that walk (sqliteSearch). The page's documents are then
// read by their rowids, in the same order.
func (s *Store) sqliteNewest(ctx context.Context, userID string, words []string, prefix bool, after *Cursor, limit int, where []string, args *[]any) (listPlan, error) {
	if after != nil && (after.Ranked || after.Seq <= 0) {
		return listPlan{}, fmt.Errorf("cursor from another list: %w", ErrInvalid)
	}
	upper := int64(math.MaxInt64)
	if after != nil {
		upper = after.Seq
	}
	cargs := append(slices.Clone(*args), sqliteMatch(userID, words, prefix), upper)
	n := len(cargs)
	k := 4 * (limit + 1)
	var page []int64
	var from int64
	err := s.db.QueryRowContext(ctx, `SELECT rowid FROM documents_fts WHERE documents_fts MATCH $1 AND rowid < $2
		ORDER BY rowid DESC LIMIT 1 OFFSET $3`, sqliteAnchor(userID, words), upper, k-1).Scan(&from)
	whole := errors.Is(err, sql.ErrNoRows)
	if err != nil && !whole {
		return listPlan{}, fmt.Errorf("search: window: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT f.rowid FROM documents_fts f CROSS JOIN documents d ON d.search_rowid = f.rowid
		WHERE documents_fts MATCH $`+strconv.Itoa(n-1)+` AND f.rowid >= $`+strconv.Itoa(n+1)+` AND f.rowid < $`+strconv.Itoa(n)+
		` AND `+strings.Join(where, ` AND `)+` ORDER BY f.rowid ASC`, append(cargs, from)...)
	if err != nil {
		return listPlan{}, fmt.Errorf("search: window: %w", err)
	}
	page = page[:0]
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			rows.Close()
			return listPlan{}, fmt.Errorf("search: window: %w", err)
		}
		if len(page) == limit+1 {
			page = append(page[:0], page[1:]...)
		}
		page = append(page, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return listPlan{}, fmt.Errorf("search: window: %w", err)
	}
	if len(page) < limit+1 && !whole {
		arg := func(v any) string { *args = append(*args, v); return "$" + strconv.Itoa(len(*args)) }
		return sqliteSearch(userID, words, prefix, arg), nil
	}
	b, err := json.Marshal(page)
	if err != nil {
		return listPlan{}, fmt.Errorf("search: window: %w", err)
	}
	*args = append(*args, string(b))
	return listPlan{
		// By the rowids (CROSS JOIN keeps SQLite from walking the user's documents instead).
		from:  `json_each($` + strconv.Itoa(len(*args)) + `) j CROSS JOIN documents d ON d.search_rowid = j.value`,
		score: `0.0`, seq: `d.search_rowid`, order: `d.search_rowid DESC`, prefix: prefix,
		// The cursor bounded the window above.
		after: func(*Cursor, func(any) string) (string, error) { return `1 = 1`, nil },
	}, nil
}
