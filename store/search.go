package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultRankLimit is how many matches a query may have for the user and still be ranked by
// relevance; a query with more lists its matches newest first, so no search ranks more
// than this many documents, however large the collection.
const DefaultRankLimit = 500

// WithRankLimit sets the rank limit (tests set it low to exercise both plans).
func WithRankLimit(n int) Option { return func(s *Store) { s.rankLimit = n } }

// minPrefix is the shortest last word matched as the start of a word: shorter prefixes
// than the index keeps (two characters) would merge the lists of every word so starting.
const minPrefix = 2

// prefixLast says whether the last of words is matched as the start of a word ("lisb" finds
// "Lisbon"), as a user typing sees it.
func prefixLast(words []string) bool {
	return len(words) > 0 && utf8.RuneCountInString(words[len(words)-1]) >= minPrefix
}

// DefaultPrefixMergeLimit bounds what a prefix may cost where the index has no list of its
// own: the lists of every word starting so are merged before the first row, so the prefix
// is matched only while they are this short, in the whole index; otherwise the last word
// must match whole ("invoic" would merge "invoice"'s list of half the collection). SQLite,
// past its prefix indexes (three characters): the words' occurrences, counted in
// documents_fts_terms up to the limit; at the limit the count and the merge each cost a
// millisecond or two. PostgreSQL: the documents holding them, estimated from the column's
// statistics.
const DefaultPrefixMergeLimit = 2000

// WithPrefixMergeLimit sets the prefix merge limit (tests set it low).
func WithPrefixMergeLimit(n int) Option { return func(s *Store) { s.prefixMergeLimit = n } }

// searchPrefix decides whether the last of words matches as the start of a word, so that no
// prefix costs more than a bounded merge of word lists. SQLite: the two- and three-character
// prefixes its indexes hold, and a longer one whose words occur at most prefixMergeLimit
// times in the index (DefaultPrefixMergeLimit), counted in word order at a bounded cost.
// PostgreSQL, whose GIN index has no prefix entries and reads every matching word's list: a
// prefix of four characters or more whose words are in at most prefixMergeLimit documents,
// by the statistics of documents.search (the most common words, their frequencies and the
// table's row estimate). Otherwise the last word must match whole.
func (s *Store) searchPrefix(ctx context.Context, words []string) (bool, error) {
	if !prefixLast(words) {
		return false, nil
	}
	last := words[len(words)-1]
	if s.dialect == Postgres {
		if utf8.RuneCountInString(last) < 4 {
			return false, nil
		}
		n, err := s.wordStats.documents(ctx, s, last)
		if err != nil {
			return false, err
		}
		return n <= float64(s.prefixMergeLimit), nil
	}
	if utf8.RuneCountInString(last) <= 3 {
		return true, nil
	}
	// The index holds its words folded as the tokenizer folds them; every word starting with
	// the folded prefix sorts from it up to it followed by the highest code point. The
	// tokenizer removes diacritics from Latin letters only, so a prefix whose folding changes
	// another letter (Greek "ά" to "α") might not be what the index holds and would count
	// nothing: such a prefix is weighed by the documents whose words start with its first
	// three characters instead, which FTS5 folds itself (a bound above the prefix's own).
	f := newFolder()
	from := f.fold(last)
	q, probe := `SELECT COUNT(*) FROM (SELECT 1 FROM documents_fts_terms WHERE term >= $1 AND term < $2 LIMIT $3) probe`, []any{from, from + string(utf8.MaxRune)}
	for _, r := range last {
		if r > 0x24f && (r < 0x1e00 || r > 0x1eff) && f.fold(string(r)) != strings.ToLower(string(r)) {
			q = `SELECT COUNT(*) FROM (SELECT 1 FROM documents_fts WHERE documents_fts MATCH $1 LIMIT $2) probe`
			probe = []any{`{filename text} : "` + string([]rune(last)[:3]) + `"*`}
			break
		}
	}
	var n int
	err := s.db.QueryRowContext(ctx, q, append(probe, s.prefixMergeLimit+1)...).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("search: count prefix: %w", err)
	}
	return n <= s.prefixMergeLimit, nil
}

// wordStatsMaxAge is how long a process reuses PostgreSQL's word statistics before reading
// them again: ANALYZE changes them about as often (autovacuum), and reading them costs a few
// milliseconds, a tenth of a search.
const wordStatsMaxAge = time.Minute

// wordStats holds documents.search's most common words and the share of documents holding
// each (pg_stats), and the table's estimated row count (pg_class), as read at most
// wordStatsMaxAge ago.
type wordStats struct {
	mu     sync.Mutex
	read   time.Time
	rows   float64
	words  []string
	shares []float32
}

// documents estimates how many documents hold a word that starts with prefix, by the
// statistics (a word the statistics do not list counts as rare: it is in fewer documents
// than the rarest word they list).
func (w *wordStats) documents(ctx context.Context, s *Store, prefix string) (float64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now := s.now(); w.read.IsZero() || now.Sub(w.read) >= wordStatsMaxAge || now.Before(w.read) {
		// The words are letters and digits only (see the column's definition), so spaces
		// separate them; most_common_elem_freqs ends with three summary figures after the
		// words' shares.
		var words, shares string
		var rows float64
		err := s.db.QueryRowContext(ctx, `SELECT GREATEST(c.reltuples, 0)::float8,
			COALESCE(array_to_string(st.most_common_elems::text::text[], ' '), ''), COALESCE(array_to_string(st.most_common_elem_freqs, ' '), '')
			FROM pg_class c LEFT JOIN pg_stats st ON st.schemaname = current_schema() AND st.tablename = 'documents' AND st.attname = 'search'
			WHERE c.oid = to_regclass('documents')`).Scan(&rows, &words, &shares)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("search: prefix statistics: %w", err)
		}
		w.rows, w.words, w.shares = rows, strings.Fields(words), nil
		figures := strings.Fields(shares)
		for _, f := range figures[:min(len(w.words), len(figures))] {
			v, err := strconv.ParseFloat(f, 32)
			if err != nil {
				return 0, fmt.Errorf("search: prefix statistics: %w", err)
			}
			w.shares = append(w.shares, float32(v))
		}
		w.read = now
	}
	var sum float64
	for i, word := range w.words[:len(w.shares)] {
		if strings.HasPrefix(word, prefix) {
			sum += float64(w.shares[i])
		}
	}
	return sum * w.rows, nil
}

// PrefixMatched says whether a search for q matches its last word as the start of a word
// too, as ListDocuments would decide now (see searchPrefix).
func (s *Store) PrefixMatched(ctx context.Context, q string) (bool, error) {
	return s.searchPrefix(ctx, searchWords(q))
}

// listPlan is how one list runs: what it reads, how it matches, orders and pages.
type listPlan struct {
	from, cond string
	score, seq string // the sort keys selected beside each document (0 when unused)
	order      string
	ranked     bool
	prefix     bool                                                  // the last word also matches the start of a word
	after      func(c *Cursor, arg func(any) string) (string, error) // keyset condition
	matches    string                                                // FROM … WHERE of the user's matches (searches), for counting
}

// byTime is the keyset condition of a list newest first.
func byTime(c *Cursor, arg func(any) string) (string, error) {
	if c.Ranked || c.Seq != 0 {
		return "", fmt.Errorf("cursor from another list: %w", ErrInvalid)
	}
	return `(d.created_at, d.id) < (` + arg(c.At) + `, ` + arg(c.ID) + `)`, nil
}

// plainList is every document of the user, newest first.
func plainList() listPlan {
	return listPlan{from: `documents d`, score: `0.0`, seq: `0`, order: `d.created_at DESC, d.id DESC`, after: byTime}
}

// planSearch plans a full-text query of words for userID, within the list's other conditions
// where (on the user, the trash, status and topic; their arguments are *args, to which the
// plan adds its own). The user is part of the match, so the index only ever yields their
// documents. At most the rank limit's worth of matches are ranked (bm25 / ts_rank); a query
// with more lists its matches newest first, which the indexes serve without ranking
// anything, so even "the" at a million documents costs about one page. A cursor keeps the
// plan of its first page. PostgreSQL: postgresFirstPage, then keyset pages; SQLite: a probe
// counts the matches up to the limit, then sqliteRanked or sqliteNewest.
func (s *Store) planSearch(ctx context.Context, userID string, words []string, after *Cursor, limit int, where []string, args *[]any) (listPlan, error) {
	arg := func(v any) string { *args = append(*args, v); return "$" + strconv.Itoa(len(*args)) }
	prefix, err := s.searchPrefix(ctx, words)
	if err != nil {
		return listPlan{}, err
	}
	if s.dialect == Postgres {
		query := arg(postgresTerms(words, prefix))
		if after != nil {
			return postgresSearch(query, after.Ranked, prefix, ""), nil
		}
		return s.postgresFirstPage(ctx, query, prefix, limit, where, args)
	}
	if after == nil {
		probeArgs := []any{userID}
		probeArg := func(v any) string { probeArgs = append(probeArgs, v); return "$" + strconv.Itoa(len(probeArgs)) }
		n, err := s.countMatches(ctx, sqliteSearch(userID, words, prefix, probeArg), probeArgs, s.rankLimit+1)
		if err != nil {
			return listPlan{}, err
		}
		if n <= s.rankLimit {
			return s.sqliteRanked(ctx, userID, words, prefix, nil, limit, where, args)
		}
	} else if after.Ranked {
		return s.sqliteRanked(ctx, userID, words, prefix, after, limit, where, args)
	}
	if prefix && utf8.RuneCountInString(words[len(words)-1]) > 3 {
		// A prefix longer than the prefix indexes is merged into one list in memory for each
		// statement, which reads backwards fast; a window would merge it once per step.
		return sqliteSearch(userID, words, prefix, arg), nil
	}
	return s.sqliteNewest(ctx, userID, words, prefix, after, limit, where, args)
}

// countMatches counts the user's matches of a newest-first plan (args: the user's id, then
// the plan's own), stopping at most: a cost bounded by most, whatever the collection's size.
func (s *Store) countMatches(ctx context.Context, p listPlan, args []any, most int) (int, error) {
	args = append(args, most)
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+p.matches+` LIMIT $`+strconv.Itoa(len(args))+`) probe`, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("search: count matches: %w", err)
	}
	return n, nil
}

// sqliteAnchor is the FTS5 query whose list scales a newest-first window (sqliteNewest): the
// user's own entries, or with several words those holding all but the last. The last word
// is often the start of one still being typed ("w5" in "w194 w5"), whose prefix list holds
// most of the index and is slow to walk backwards; the other words' list is short and
// nearly every entry of it matches.
func sqliteAnchor(userID string, words []string) string {
	if len(words) < 2 {
		return `owner : "u` + strings.ReplaceAll(userID, "-", "") + `"`
	}
	return sqliteMatch(userID, words[:len(words)-1], false)
}

// sqliteMatch is the FTS5 query of words for userID: the owner's token and every word in the
// name or text, the last as a prefix if so decided.
func sqliteMatch(userID string, words []string, prefix bool) string {
	var b strings.Builder
	b.WriteString(`owner : "u` + strings.ReplaceAll(userID, "-", "") + `" AND {filename text} : (`)
	for i, w := range words {
		if i > 0 {
			b.WriteString(` AND `)
		}
		b.WriteString(`"` + w + `"`)
		if i == len(words)-1 && prefix {
			b.WriteString(`*`) // the prefix indexes of 2 and 3 characters (migration 0012), see searchPrefix
		}
	}
	b.WriteString(`)`)
	return b.String()
}

// sqliteSearch matches in documents_fts, keyed by documents.search_rowid. The FTS table
// drives the join (CROSS JOIN keeps SQLite from turning it around), so the newest-first plan
// walks the index backwards and stops after one page. (Ranked lists: sqliteRanked.)
func sqliteSearch(userID string, words []string, prefix bool, arg func(any) string) listPlan {
	match := arg(sqliteMatch(userID, words, prefix))
	return listPlan{
		from:    `documents_fts f CROSS JOIN documents d ON d.search_rowid = f.rowid`,
		cond:    `documents_fts MATCH ` + match,
		matches: `documents_fts WHERE documents_fts MATCH ` + match, // the owner is in the match
		score:   `0.0`, seq: `f.rowid`, order: `f.rowid DESC`, prefix: prefix,
		after: func(c *Cursor, arg func(any) string) (string, error) {
			if c.Ranked || c.Seq <= 0 {
				return "", fmt.Errorf("cursor from another list: %w", ErrInvalid)
			}
			return `f.rowid < ` + arg(c.Seq), nil
		},
	}
}

// postgresTerms is the tsquery of words: all of them, the last as a prefix if so decided.
func postgresTerms(words []string, prefix bool) string {
	terms := strings.Join(words, " & ")
	if prefix {
		terms += ":*"
	}
	return terms
}

// postgresSearch matches documents.search with ix_documents_user_search, a GIN index over
// (user_id, search) that intersects the user's entry with the words' inside the index; query
// is the placeholder of the tsquery's text. Ranked: ts_rank over the matches; newest first:
// by creation. With ids (the placeholder of a first page's keys, see postgresFirstPage), only
// those documents are read.
func postgresSearch(query string, ranked, prefix bool, ids string) listPlan {
	from := `documents d, to_tsquery('simple', ` + query + `) query`
	cond := `d.search @@ query`
	if ids != "" {
		cond = `d.id = ANY(` + ids + `)` // matched by the candidate query already
	}
	if ranked {
		const score = `ts_rank(d.search, query)::float8`
		return listPlan{from: from, cond: cond, score: score, seq: `0`,
			order: score + ` DESC, d.id DESC`, ranked: true, prefix: prefix, after: byScore(score)}
	}
	return listPlan{from: from, cond: cond, score: `0.0`, seq: `0`, order: `d.created_at DESC, d.id DESC`, prefix: prefix, after: byTime}
}

// postgresFirstPage picks a search's first page on PostgreSQL with one bounded read: the
// user's newest rankLimit+1 (or page+1) matches within the list's conditions (where, with *args), which
// the planner finds by walking the user's creation index through the match when the words
// are common, or by the GIN index and a top-N sort when they are not. When they are all the
// matches, ts_rank is computed for them alone and the page is the best of them; otherwise
// the page is the newest of them and nothing is ranked. The page's query then reads just
// its documents, by key, in the same order. (Separate counting and page queries read the
// same rows twice, and a count without an order let the planner scan the table for "the".)
func (s *Store) postgresFirstPage(ctx context.Context, query string, prefix bool, limit int, where []string, args *[]any) (listPlan, error) {
	rl := strconv.Itoa(s.rankLimit)
	q := `SELECT c.id, c.n FROM (SELECT m.*, COUNT(*) OVER () AS n FROM (
			SELECT d.id, d.created_at, d.search, query AS q FROM documents d, to_tsquery('simple', ` + query + `) query
			WHERE ` + strings.Join(where, ` AND `) + ` AND d.search @@ query
			ORDER BY d.created_at DESC, d.id DESC LIMIT ` + strconv.Itoa(max(s.rankLimit, limit)+1) + `) m) c
		ORDER BY CASE WHEN c.n <= ` + rl + ` THEN ts_rank(c.search, c.q)::float8 END DESC,
			CASE WHEN c.n > ` + rl + ` THEN c.created_at END DESC, c.id DESC
		LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.db.QueryContext(ctx, q, *args...)
	if err != nil {
		return listPlan{}, fmt.Errorf("search: candidates: %w", err)
	}
	defer rows.Close()
	ids := []string{}
	n := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id, &n); err != nil {
			return listPlan{}, fmt.Errorf("search: candidates: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return listPlan{}, fmt.Errorf("search: candidates: %w", err)
	}
	*args = append(*args, ids)
	return postgresSearch(query, n <= s.rankLimit, prefix, "$"+strconv.Itoa(len(*args))), nil
}

// byScore is the keyset condition of results ranked by score: a lower score, or an equal
// score and a lower id.
func byScore(score string) func(c *Cursor, arg func(any) string) (string, error) {
	return func(c *Cursor, arg func(any) string) (string, error) {
		if !c.Ranked {
			return "", fmt.Errorf("cursor from another list: %w", ErrInvalid)
		}
		return `(` + score + `, d.id) < (` + arg(c.Score) + `, ` + arg(c.ID) + `)`, nil
	}
}

// searchWords keeps the words of free text (letters and digits, lower case), so no query
// syntax reaches the index: at most 16 words.
func searchWords(q string) []string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > 16 {
		words = words[:16]
	}
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	return words
}
