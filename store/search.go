package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// DefaultRankLimit is how many documents a query's rarest word may be in for its results to
// be ranked by relevance; a query whose every word is more common than that lists its
// matches newest first, so no search ranks more than this many documents.
const DefaultRankLimit = 2000

// WithRankLimit sets the rank limit (tests set it low to exercise both plans).
func WithRankLimit(n int) Option { return func(s *Store) { s.rankLimit = n } }

// listPlan is how one list runs: what it reads, how it matches, orders and pages.
type listPlan struct {
	from, cond string
	score, seq string // the sort keys selected beside each document (0 when unused)
	order      string
	ranked     bool
	after      func(c *Cursor, arg func(any) string) (string, error) // keyset condition
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

// planSearch plans a full-text query of words for userID. The user is part of the match, so
// the index only ever yields their documents. When the rarest word is in at most rankLimit
// documents (of anyone), the matches are ranked (bm25 / ts_rank); otherwise they are listed
// newest first, which the index serves without ranking anything, so even "the" at a million
// documents costs one page. A cursor keeps the plan its first page had.
func (s *Store) planSearch(ctx context.Context, userID string, words []string, after *Cursor, arg func(any) string) (listPlan, error) {
	var ranked bool
	if after != nil {
		ranked = after.Ranked
	} else {
		n, err := s.documentsWithRarestWord(ctx, words)
		if err != nil {
			return listPlan{}, err
		}
		ranked = n <= int64(s.rankLimit)
	}
	if s.dialect == Postgres {
		return postgresSearch(words, ranked, arg), nil
	}
	return sqliteSearch(userID, words, ranked, arg), nil
}

// sqliteSearch matches in documents_fts, keyed by documents.search_rowid. The FTS table
// drives the join (CROSS JOIN keeps SQLite from turning it around), so the newest-first plan
// walks the index backwards and stops after one page.
func sqliteSearch(userID string, words []string, ranked bool, arg func(any) string) listPlan {
	var b strings.Builder
	b.WriteString(`owner : "u` + strings.ReplaceAll(userID, "-", "") + `" AND {filename text} : (`)
	for i, w := range words {
		if i > 0 {
			b.WriteString(` AND `)
		}
		b.WriteString(`"` + w + `"`)
		if i == len(words)-1 && prefixed(w) {
			b.WriteString(` *`)
		}
	}
	b.WriteString(`)`)
	match := arg(b.String())
	if ranked {
		return listPlan{
			from: `(SELECT rowid AS r, -bm25(documents_fts, 0.0, 1.0, 1.0) AS score FROM documents_fts WHERE documents_fts MATCH ` +
				match + `) f CROSS JOIN documents d ON d.search_rowid = f.r`,
			score: `f.score`, seq: `0`, order: `f.score DESC, d.id DESC`, ranked: true, after: byScore(`f.score`),
		}
	}
	return listPlan{
		from:  `documents_fts f CROSS JOIN documents d ON d.search_rowid = f.rowid`,
		cond:  `documents_fts MATCH ` + match,
		score: `0.0`, seq: `f.rowid`, order: `f.rowid DESC`,
		after: func(c *Cursor, arg func(any) string) (string, error) {
			if c.Ranked || c.Seq <= 0 {
				return "", fmt.Errorf("cursor from another list: %w", ErrInvalid)
			}
			return `f.rowid < ` + arg(c.Seq), nil
		},
	}
}

// postgresSearch matches documents.search (GIN). Ranked: ts_rank over the matches; newest
// first: ix_documents_user_created, filtered by the match, stops after one page.
func postgresSearch(words []string, ranked bool, arg func(any) string) listPlan {
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = w
		if i == len(words)-1 && prefixed(w) {
			terms[i] += ":*"
		}
	}
	from := `documents d, to_tsquery('simple', ` + arg(strings.Join(terms, " & ")) + `) query`
	if ranked {
		const score = `ts_rank(d.search, query)::float8`
		return listPlan{from: from, cond: `d.search @@ query`, score: score, seq: `0`,
			order: score + ` DESC, d.id DESC`, ranked: true, after: byScore(score)}
	}
	return listPlan{from: from, cond: `d.search @@ query`, score: `0.0`, seq: `0`, order: `d.created_at DESC, d.id DESC`, after: byTime}
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

// prefixed tells whether the last word of a query also matches longer words ("inv" finds
// "invoice"): from three characters on, so a prefix never expands to half the vocabulary.
func prefixed(w string) bool { return len([]rune(w)) >= 3 }

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

// fold is a word as SQLite's index keeps it (unicode61 remove_diacritics 2): lower case,
// diacritics removed. It serves to look the word up in the vocabulary; the match itself goes
// through the index's own tokenizer.
func fold(w string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(w)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// documentsWithRarestWord is how many documents (of anyone) hold the query's rarest word, a
// bound on how many the query can match: read from the FTS vocabulary on SQLite, from the
// column's lexeme statistics on Postgres. A prefix counts every word it starts.
func (s *Store) documentsWithRarestWord(ctx context.Context, words []string) (int64, error) {
	rarest := int64(-1)
	for i, w := range words {
		prefix := i == len(words)-1 && prefixed(w)
		var n int64
		var err error
		if s.dialect == Postgres {
			n, err = s.lexemeStats.documentsWith(ctx, s.db, s.Now(), w, prefix)
		} else {
			n, err = sqliteDocumentsWith(ctx, s.db, w, prefix)
		}
		if err != nil {
			return 0, err
		}
		if rarest < 0 || n < rarest {
			rarest = n
		}
	}
	return rarest, nil
}

func sqliteDocumentsWith(ctx context.Context, db *sql.DB, w string, prefix bool) (int64, error) {
	var n sql.NullInt64
	var err error
	if prefix {
		err = db.QueryRowContext(ctx, `SELECT SUM(doc) FROM documents_fts_terms WHERE term >= $1 AND term < $2`, fold(w), fold(w)+"\U0010FFFF").Scan(&n)
	} else {
		err = db.QueryRowContext(ctx, `SELECT doc FROM documents_fts_terms WHERE term = $1`, fold(w)).Scan(&n)
	}
	if err != nil && err != sql.ErrNoRows {
		return 0, fmt.Errorf("search vocabulary: %w", err)
	}
	return n.Int64, nil
}

// lexemeStats caches Postgres's statistics of documents.search: the most common lexemes with
// the share of rows holding each, and the table's row estimate. A lexeme not listed is rarer
// than every listed one.
type lexemeStats struct {
	mu   sync.Mutex
	read time.Time
	rows float64
	freq map[string]float64
}

// lexemeStatsTTL is how long statistics are reused (ANALYZE refreshes them far less often).
const lexemeStatsTTL = 5 * time.Minute

func (l *lexemeStats) documentsWith(ctx context.Context, db *sql.DB, now time.Time, w string, prefix bool) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.freq == nil || now.Sub(l.read) > lexemeStatsTTL {
		if err := l.load(ctx, db); err != nil {
			return 0, err
		}
		l.read = now
	}
	share := 0.0
	for lexeme, f := range l.freq {
		if lexeme == w || (prefix && strings.HasPrefix(lexeme, w)) {
			share += f
		}
	}
	return int64(share * l.rows), nil
}

func (l *lexemeStats) load(ctx context.Context, db *sql.DB) error {
	var lexemes sql.NullString
	var freqs sql.NullString
	var rows float64
	err := db.QueryRowContext(ctx, `SELECT s.most_common_elems::text, s.most_common_elem_freqs::text, c.reltuples::float8
		FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'documents' AND s.attname = 'search'
		WHERE c.oid = 'documents'::regclass`).Scan(&lexemes, &freqs, &rows)
	if err != nil {
		return fmt.Errorf("search statistics: %w", err)
	}
	l.rows, l.freq = max(rows, 0), map[string]float64{}
	names, shares := pgArray(lexemes.String), pgArray(freqs.String)
	for i, name := range names {
		if i < len(shares) {
			var f float64
			if _, err := fmt.Sscan(shares[i], &f); err == nil {
				l.freq[name] = f
			}
		}
	}
	return nil
}

// pgArray splits the text form of a one-dimensional array of plain words or numbers.
func pgArray(s string) []string {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.Trim(p, `"`)
	}
	return parts
}
