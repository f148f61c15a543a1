package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// searchCorpus inserts n documents for each user with Zipf-distributed words (so some words
// are in most documents and others in a few), returning each document's words by id.
func searchCorpus(t *testing.T, s *store.Store, users []string, n int) map[string]string {
	texts, _ := searchCorpusBodies(t, s, users, n)
	return texts
}

// searchCorpusBodies is searchCorpus, also returning each document's text alone.
func searchCorpusBodies(t *testing.T, s *store.Store, users []string, n int) (map[string]string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	vocab := []string{"the", "invoice", "of", "tax", "electricity", "and", "insurance", "doctor", "rent", "salary",
		"invoices", "invented", "zebra", "quokka", "contract", "notary", "flight", "hotel", "passport", "school"}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.3, 1, uint64(len(vocab)-1))
	texts, bodies := map[string]string{}, map[string]string{}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for u, userID := range users {
		for i := range n {
			words := make([]string, 3+rng.IntN(8))
			for j := range words {
				words[j] = vocab[zipf.Uint64()]
			}
			id := uuid.Must(uuid.NewV7()).String()
			filename := fmt.Sprintf("doc-%d-%d.txt", u, i)
			text := strings.Join(words, " ")
			texts[id] = filename + " " + text
			bodies[id] = text
			_, err := s.DB().ExecContext(ctx, `INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes,
				status, created_at, text) VALUES ($1, $2, $3, 'text/plain', $4, 1, 'classified', $5, $6)`,
				id, userID, filename, store.ObjectKeyFor(userID, id), start.Add(time.Duration(u*n+i)*time.Second), text)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if s.Dialect() == store.Postgres {
		if _, err := s.DB().ExecContext(ctx, `ANALYZE documents`); err != nil {
			t.Fatal(err)
		}
	}
	return texts, bodies
}

// bruteMatch is what a search for words must find in text: every word as a token, the last
// one (of two characters or more) also as the start of a token.
func bruteMatch(text string, words []string) bool { return brutePrefix(text, words, true) }

// brutePrefix is bruteMatch with the last word matched as a prefix only if prefix is set.
func brutePrefix(text string, words []string, prefix bool) bool {
	tokens := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		prefix := prefix && i == len(words)-1 && len([]rune(w)) >= 2
		if !slices.ContainsFunc(tokens, func(tok string) bool { return tok == w || (prefix && strings.HasPrefix(tok, w)) }) {
			return false
		}
	}
	return true
}

var markRE = regexp.MustCompile(`<mark>([^<]*)</mark>`)

// checkSnippet: a result's snippet marks only words of the query (the last also as a prefix),
// and marks at least one when the text itself (not only the filename) holds a match.
func checkSnippet(t *testing.T, q string, words []string, doc store.Document, text string) {
	t.Helper()
	if doc.Snippet == nil {
		t.Fatalf("%q: %s has no snippet", q, doc.ID)
	}
	marks := markRE.FindAllStringSubmatch(*doc.Snippet, -1)
	for _, m := range marks {
		if !bruteMatch(m[1], words[len(words)-1:]) && !slices.Contains(words, strings.ToLower(m[1])) {
			t.Fatalf("%q: snippet %q marks %q", q, *doc.Snippet, m[1])
		}
	}
	any := false
	for _, w := range words {
		any = any || bruteMatch(text, []string{w})
	}
	if any && len(marks) == 0 {
		t.Fatalf("%q: snippet %q of %q marks nothing", q, *doc.Snippet, text)
	}
}

// TestSearchMatchesBruteForce: every query finds exactly the user's documents a scan of the
// texts finds, page after page, whether its plan ranks the matches or lists them newest first,
// in the order that plan promises.
func TestSearchMatchesBruteForce(t *testing.T) {
	for _, d := range testenv.Dialects() {
		for _, limit := range []int{5, 1 << 30} {
			t.Run(fmt.Sprintf("%s/rank-limit-%d", d, limit), func(t *testing.T) {
				s, err := store.Open(context.Background(), d, testenv.DSN(t, d), store.WithRankLimit(limit))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				if err := s.MigrateUp(context.Background()); err != nil {
					t.Fatal(err)
				}
				alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
				bob := mustUser(t, s, "bob", store.RoleUser, 1<<30)
				texts, bodies := searchCorpusBodies(t, s, []string{alice.ID, bob.ID}, 150)
				owner := map[string]string{}
				rows, err := s.DB().Query(`SELECT id, user_id FROM documents`)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id, u string
					if err := rows.Scan(&id, &u); err != nil {
						t.Fatal(err)
					}
					owner[id] = u
				}
				rows.Close()
				for _, q := range []string{"the", "invoice", "invoice tax", "inv", "invoices", "zebra quokka", "THE Notary", "doc-1-7", "nothing-here", "of and the",
					"tax inv", "invo", "Invoice t", "q", "notar", "zeb quo", "th"} {
					words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
					prefix, err := s.PrefixMatched(context.Background(), q)
					if err != nil {
						t.Fatal(err)
					}
					want := map[string]bool{}
					for id, text := range texts {
						if owner[id] == alice.ID && brutePrefix(text, words, prefix) {
							want[id] = true
						}
					}
					got := map[string]bool{}
					var after *store.Cursor
					var prev *store.Document
					var prevScore float64
					for page := 0; ; page++ {
						docs, next, err := s.ListDocuments(context.Background(), alice.ID, store.DocumentFilter{Query: q, After: after, Limit: 7})
						if err != nil {
							t.Fatalf("%q page %d: %v", q, page, err)
						}
						for i, doc := range docs {
							if got[doc.ID] {
								t.Fatalf("%q: %s listed twice", q, doc.ID)
							}
							got[doc.ID] = true
							checkSnippet(t, q, words, doc, bodies[doc.ID])
							if next != nil && !next.Ranked && prev != nil && doc.CreatedAt.After(prev.CreatedAt) {
								t.Fatalf("%q: newest-first results out of order", q)
							}
							prev = &docs[i]
						}
						if next == nil {
							break
						}
						if next.Ranked && page > 0 && next.Score > prevScore+1e-9 {
							t.Fatalf("%q: ranked pages out of order (%v after %v)", q, next.Score, prevScore)
						}
						prevScore = next.Score
						// A page's cursor must survive the trip through the client.
						if after, err = store.DecodeCursor(next.Encode()); err != nil {
							t.Fatalf("%q: cursor %q: %v", q, next.Encode(), err)
						}
					}
					if len(got) != len(want) {
						t.Fatalf("%q: %d found, %d expected", q, len(got), len(want))
					}
					for id := range want {
						if !got[id] {
							t.Fatalf("%q: %s not found", q, id)
						}
					}
				}
			})
		}
	}
}

// TestSearchPlanFollowsWordFrequency: with a low rank limit a common word lists newest first
// and a rare one is ranked; a cursor keeps its first page's plan.
func TestSearchPlanFollowsWordFrequency(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			s, err := store.Open(context.Background(), d, testenv.DSN(t, d), store.WithRankLimit(20))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.MigrateUp(context.Background()); err != nil {
				t.Fatal(err)
			}
			alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
			searchCorpus(t, s, []string{alice.ID}, 200)
			_, next, err := s.ListDocuments(context.Background(), alice.ID, store.DocumentFilter{Query: "the", Limit: 5})
			if err != nil || next == nil || next.Ranked {
				t.Fatalf("common word: cursor %+v, %v: want newest first", next, err)
			}
			_, next, err = s.ListDocuments(context.Background(), alice.ID, store.DocumentFilter{Query: "quokka", Limit: 1})
			if err != nil || next == nil || !next.Ranked {
				t.Fatalf("rare word: cursor %+v, %v: want ranked", next, err)
			}
			// Bob cannot page Alice's list with a cursor of the other plan.
			if _, _, err := s.ListDocuments(context.Background(), alice.ID, store.DocumentFilter{Query: "the", Limit: 5,
				After: &store.Cursor{Ranked: true, Score: 1, ID: uuid.NewString()}}); err != nil {
				t.Fatalf("a ranked cursor continues ranked: %v", err)
			}
			if _, _, err := s.ListDocuments(context.Background(), alice.ID, store.DocumentFilter{Limit: 5,
				After: &store.Cursor{Ranked: true, Score: 1, ID: uuid.NewString()}}); err == nil {
				t.Fatal("a ranked cursor was taken by a plain list")
			}
		})
	}
}

// TestMigration0010ConvertsSearchIndex: documents written before the index was keyed by
// search_rowid (a 0006 database) are found after the upgrade, and renames, new text and
// deletes then keep the index in step, one entry each.
func TestMigration0010ConvertsSearchIndex(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, d, testenv.DSN(t, d))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.MigrateTo(ctx, "0006-job-runs"); err != nil {
				t.Fatal(err)
			}
			alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
			bob := mustUser(t, s, "bob", store.RoleUser, 1<<30)
			ids := map[string]string{}
			for i, doc := range []struct{ user, name, text string }{
				{alice.ID, "bill.txt", "electricity invoice march"},
				{alice.ID, "lease.txt", "rent contract landlord"},
				{bob.ID, "bob.txt", "electricity invoice april"},
			} {
				ids[doc.name] = insertText(t, s, doc.user, doc.name, doc.text, time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC))
			}
			if _, err := s.DB().ExecContext(ctx, `UPDATE quotas SET used_bytes = 10`); err != nil {
				t.Fatal(err)
			}
			if err := s.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			find := func(q string) []string {
				t.Helper()
				docs, _, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: q, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, d := range docs {
					names = append(names, d.Filename)
				}
				slices.Sort(names)
				return names
			}
			if got := find("electricity invoice"); !slices.Equal(got, []string{"bill.txt"}) {
				t.Fatalf("after the upgrade: %v", got)
			}
			if _, err := s.UpdateDocument(ctx, alice.ID, ids["lease.txt"], store.DocumentPatch{Filename: ptr("tenancy.txt")}); err != nil {
				t.Fatal(err)
			}
			if got := find("tenancy"); !slices.Equal(got, []string{"tenancy.txt"}) {
				t.Fatalf("after a rename: %v", got)
			}
			if got := find("lease"); len(got) != 0 {
				t.Fatalf("the old name is still found: %v", got)
			}
			if _, err := s.DeleteDocument(ctx, alice.ID, ids["bill.txt"]); err != nil {
				t.Fatal(err)
			}
			if got := find("electricity"); len(got) != 0 {
				t.Fatalf("a deleted document is found: %v", got)
			}
			// A document made after the upgrade is numbered after the old ones and found.
			p, err := s.CreatePending(ctx, alice.ID, "new electricity.txt", "text/plain", 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := find("electricity"); !slices.Equal(got, []string{"new electricity.txt"}) || p.ID == "" {
				t.Fatalf("a new document: %v", got)
			}
			if d == store.SQLite {
				var entries, docs int
				if err := s.DB().QueryRow(`SELECT (SELECT COUNT(*) FROM documents_fts), (SELECT COUNT(*) FROM documents)`).Scan(&entries, &docs); err != nil {
					t.Fatal(err)
				}
				if entries != docs {
					t.Fatalf("%d index entries for %d documents", entries, docs)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestSearchIndexWritesTouchOneEntry guards the cost of every write at scale: each statement
// the documents triggers run (insert, rename or new text, delete) finds its full-text entry
// and its row by key — no scan of the index or of the documents — so an upload, a
// classification, a rename and a delete cost the same at a million documents as at ten.
func TestSearchIndexWritesTouchOneEntry(t *testing.T) {
	s := newTestStore(t, store.SQLite)
	rows, err := s.DB().Query(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'documents'`)
	if err != nil {
		t.Fatal(err)
	}
	triggers := map[string]string{}
	for rows.Next() {
		var name, body string
		if err := rows.Scan(&name, &body); err != nil {
			t.Fatal(err)
		}
		triggers[name] = body
	}
	rows.Close()
	if len(triggers) < 3 {
		t.Fatalf("triggers on documents: %v", triggers)
	}
	ref := regexp.MustCompile(`\b(old|new)\.\w+`)
	for name, body := range triggers {
		_, inner, ok := strings.Cut(body, " BEGIN")
		if !ok {
			t.Fatalf("%s: no body: %s", name, body)
		}
		inner = strings.TrimSuffix(strings.TrimSpace(inner), "END")
		for _, stmt := range strings.Split(inner, ";") {
			stmt = strings.TrimSpace(ref.ReplaceAllString(stmt, "NULL"))
			if stmt == "" {
				continue
			}
			plan, err := s.DB().Query(`EXPLAIN QUERY PLAN ` + stmt)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, stmt, err)
			}
			for plan.Next() {
				var id, parent, unused int
				var detail string
				if err := plan.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(detail, "SCAN documents") && (strings.HasSuffix(detail, "INDEX 0:") || !strings.Contains(detail, "VIRTUAL TABLE")) {
					t.Errorf("trigger %s scans a table: %q in %s", name, detail, stmt)
				}
			}
			plan.Close()
		}
	}
}

// TestPostgresPlansEachSearch: the pool's sessions plan statements for their arguments, so a
// prepared search never falls back to a generic plan blind to how common its words are.
func TestPostgresPlansEachSearch(t *testing.T) {
	s := newTestStore(t, store.Postgres)
	var mode string
	if err := s.DB().QueryRow(`SHOW plan_cache_mode`).Scan(&mode); err != nil || mode != "force_custom_plan" {
		t.Fatalf("plan_cache_mode %q, %v", mode, err)
	}
}

// TestSearchSnippetEscapesMarkup: a document's own markup comes back in its snippet escaped,
// the only tags being the <mark> of the matches; a prefix of the last word finds and marks
// whole words, on both databases.
func TestSearchSnippetEscapesMarkup(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := newTestStore(t, d)
			alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
			bob := mustUser(t, s, "bob", store.RoleUser, 1<<30)
			hostile := "<script>alert(1)</script> Trip to Lisbon & \"Porto\"\n\n<img src=x onerror='alert(2)'> lisbonense"
			for _, u := range []string{alice.ID, bob.ID} {
				id := uuid.Must(uuid.NewV7()).String()
				if _, err := s.DB().ExecContext(ctx, `INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes,
					status, created_at, text) VALUES ($1, $2, 'trip.html', 'text/html', $3, 1, 'classified', $4, $5)`,
					id, u, store.ObjectKeyFor(u, id), time.Now().UTC(), hostile); err != nil {
					t.Fatal(err)
				}
			}
			for q, want := range map[string]string{
				"lisb":        `&lt;script&gt;alert(1)&lt;/script&gt; Trip to <mark>Lisbon</mark> &amp; &#34;Porto&#34; &lt;img src=x onerror=&#39;alert(2)&#39;&gt; <mark>lisbonense</mark>`,
				"script":      `&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; Trip to Lisbon &amp; &#34;Porto&#34; &lt;img src=x onerror=&#39;alert(2)&#39;&gt; lisbonense`,
				"trip lisbon": `&lt;script&gt;alert(1)&lt;/script&gt; <mark>Trip</mark> to <mark>Lisbon</mark> &amp; &#34;Porto&#34; &lt;img src=x onerror=&#39;alert(2)&#39;&gt; <mark>lisbonense</mark>`,
			} {
				docs, _, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: q, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if len(docs) != 1 || docs[0].UserID != alice.ID || docs[0].Snippet == nil {
					t.Fatalf("%q: %+v", q, docs)
				}
				if got := *docs[0].Snippet; got != want {
					t.Fatalf("%q: snippet\n%s\nwant\n%s", q, got, want)
				}
			}
			// A plain list carries no snippet; "lisbonensis" is no prefix of any word.
			docs, _, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Limit: 10})
			if err != nil || len(docs) != 1 || docs[0].Snippet != nil {
				t.Fatalf("plain list: %+v, %v", docs, err)
			}
			if docs, _, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: "lisbonensis", Limit: 10}); err != nil || len(docs) != 0 {
				t.Fatalf("longer than any word: %+v, %v", docs, err)
			}
		})
	}
}

// TestSearchRowidsAreSpread: on SQLite consecutive documents get index rowids that grow but
// are not consecutive (about 64 apart, never 128 or more), so deleting a batch of them does
// not fill consecutive slots of FTS5's deletion tables; newest-first pages still follow them.
func TestSearchRowidsAreSpread(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, store.SQLite, store.WithRankLimit(5)) // 50 matches list newest first
	alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 50 {
		insertText(t, s, alice.ID, fmt.Sprintf("d%02d.txt", i), "quokka", start.Add(time.Duration(i)*time.Minute))
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT search_rowid FROM documents ORDER BY created_at`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r)
	}
	rows.Close()
	sum := int64(0)
	for i := 1; i < len(ids); i++ {
		gap := ids[i] - ids[i-1]
		if gap < 1 || gap > 127 {
			t.Fatalf("rowid %d after %d: gap %d, want 1–127", ids[i], ids[i-1], gap)
		}
		sum += gap
	}
	if mean := float64(sum) / float64(len(ids)-1); mean < 32 {
		t.Fatalf("rowids %v: mean gap %.1f, want about 64", ids, mean)
	}
	docs, next, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: "quokka", Limit: 3})
	if err != nil || len(docs) != 3 || docs[0].Filename != "d49.txt" || docs[2].Filename != "d47.txt" || next == nil || next.Ranked {
		t.Fatalf("newest first: %+v %+v %v", docs, next, err)
	}
}

// TestSearchLongPrefixIsBounded: on SQLite a last word longer than the prefix indexes matches
// as a prefix only while the words starting with it occur few times in the index (a merge
// of bounded cost), however common its first three characters; past the limit it matches
// whole. Two- and three-character prefixes always match as prefixes. PostgreSQL matches
// prefixes of four characters or more while its statistics call them rare.
func TestSearchLongPrefixIsBounded(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			now, advance := settableClock(time.Now().UTC())
			s := newTestStore(t, d, store.WithPrefixMergeLimit(3), store.WithClock(now))
			alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
			for i, text := range []string{"invoice", "invoice", "invoice", "invoice", "invoice", "invoices due", "quokka", "quote", "Quotes", "quoted",
				"άλφαβητο", "άλφαβητο", "άλφαβητο", "άλφαβητο"} {
				insertText(t, s, alice.ID, fmt.Sprintf("d%d.txt", i), text, time.Now().UTC())
			}
			// SQLite: words starting "invoic" occur 6 times, more than 3, so "invoic" and
			// "invoice" match whole words only. "quo" starts 4 documents' words, but only one
			// starts "quok", and 3 start "quot". "άλφα", whose "ά" the index keeps (it folds
			// Latin letters only), is weighed by "άλφ": 4 documents, so it matches whole.
			// PostgreSQL: no prefix under 4 characters; without statistics every longer one
			// is rare enough.
			want := map[string]int{"invoic": 0, "invoice": 5, "inv": 6, "quok": 1, "quot": 3, "quo": 4, "due quok": 0, "άλφα": 0, "άλφ": 4}
			if d == store.Postgres {
				want = map[string]int{"invoic": 6, "invoice": 6, "inv": 0, "quok": 1, "quot": 3, "quo": 0, "due quok": 0, "άλφα": 4, "άλφ": 0}
			}
			check := func(want map[string]int) {
				t.Helper()
				for q, n := range want {
					docs, _, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: q, Limit: 50})
					if err != nil {
						t.Fatal(err)
					}
					if len(docs) != n {
						t.Fatalf("%q: %d found, want %d", q, len(docs), n)
					}
				}
			}
			check(want)
			if d == store.Postgres {
				// Once the statistics know that "invoice" is in most documents, its prefixes match
				// whole words only: after the process's copy of them has aged.
				if _, err := s.DB().ExecContext(ctx, `ANALYZE documents`); err != nil {
					t.Fatal(err)
				}
				check(want)
				advance(time.Minute)
				check(map[string]int{"invoic": 0, "invoice": 5})
			}
		})
	}
}

// TestSearchRanksByRelevance: within a ranked result a document holding the word more often
// (for its length) comes first, in its name or its text, on both databases; documents of
// equal score page by id without loss or repetition, whatever the page size.
func TestSearchRanksByRelevance(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := newTestStore(t, d)
			alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
			bob := mustUser(t, s, "bob", store.RoleUser, 1<<30)
			insert := func(user, name, text string) string {
				t.Helper()
				return insertText(t, s, user, name, text, time.Now().UTC())
			}
			once := insert(alice.ID, "a.txt", "a note on the quokka and the rent of the flat in march")
			thrice := insert(alice.ID, "b.txt", "quokka quokka quokka and the rent of the flat in march")
			named := insert(alice.ID, "quokka.txt", "quokka quokka and the rent of the flat in march")
			insert(bob.ID, "quokka.txt", "quokka quokka quokka quokka quokka")
			docs, next, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: "quokka", Limit: 10})
			if err != nil || len(docs) != 3 || next != nil {
				t.Fatalf("quokka: %d docs, %v, %v", len(docs), next, err)
			}
			if docs[2].ID != once || docs[0].ID != thrice && docs[0].ID != named {
				t.Fatalf("order %s %s %s; want the single mention (%s) last", docs[0].Filename, docs[1].Filename, docs[2].Filename, once)
			}
			var ties []string
			for i := range 12 {
				ties = append(ties, insert(alice.ID, fmt.Sprintf("t%d.txt", i), "zebra crossing"))
			}
			for _, limit := range []int{1, 5, 12, 50} {
				seen := map[string]bool{}
				var after *store.Cursor
				for {
					docs, next, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: "zebra", Limit: limit, After: after})
					if err != nil {
						t.Fatal(err)
					}
					for _, doc := range docs {
						if seen[doc.ID] {
							t.Fatalf("limit %d: %s twice", limit, doc.ID)
						}
						seen[doc.ID] = true
					}
					if next == nil {
						break
					}
					if !next.Ranked {
						t.Fatalf("limit %d: a dozen matches are not ranked", limit)
					}
					after = next
				}
				for _, id := range ties {
					if !seen[id] {
						t.Fatalf("limit %d: %s lost among equal scores (%d seen)", limit, id, len(seen))
					}
				}
			}
		})
	}
}

// TestSearchNewestFirstFindsSparseMatches: a common word's newest-first pages, narrowed by a
// status that only the oldest few documents have, still find each of them once, page by
// page, however far back they lie (the search widens its window of recent documents).
func TestSearchNewestFirstFindsSparseMatches(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := newTestStore(t, d, store.WithRankLimit(5))
			alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			want := map[string]bool{}
			for i := range 400 {
				status := "classified"
				if i < 3 {
					status = "failed"
				}
				id := uuid.Must(uuid.NewV7()).String()
				if _, err := s.DB().ExecContext(ctx, `INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes,
					status, created_at, text) VALUES ($1, $2, $3, 'text/plain', $4, 1, $5, $6, 'the rent of the flat')`,
					id, alice.ID, fmt.Sprintf("d%d.txt", i), store.ObjectKeyFor(alice.ID, id), status, start.Add(time.Duration(i)*time.Minute)); err != nil {
					t.Fatal(err)
				}
				if status == "failed" {
					want[id] = true
				}
			}
			got := map[string]bool{}
			var after *store.Cursor
			for range 10 {
				docs, next, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: "the", Status: "failed", Limit: 1, After: after})
				if err != nil {
					t.Fatal(err)
				}
				for _, doc := range docs {
					if !want[doc.ID] || got[doc.ID] {
						t.Fatalf("%s: not a failed document, or listed twice", doc.ID)
					}
					got[doc.ID] = true
				}
				if next == nil {
					break
				}
				after = next
			}
			if len(got) != len(want) {
				t.Fatalf("found %d of the %d failed documents", len(got), len(want))
			}
			// Unfiltered, the newest page is the newest documents.
			docs, next, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: "the", Limit: 3})
			if err != nil || next == nil || next.Ranked || len(docs) != 3 || docs[0].Filename != "d399.txt" || docs[2].Filename != "d397.txt" {
				t.Fatalf("newest page: %+v, %+v, %v", docs, next, err)
			}
		})
	}
}

// insertText adds a classified text/plain document of the user with text, created at at,
// straight into the table (its index entry comes from the trigger), and returns its id.
func insertText(t *testing.T, s *store.Store, userID, filename, text string, at time.Time) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := s.DB().ExecContext(context.Background(), `INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes,
		status, created_at, text) VALUES ($1, $2, $3, 'text/plain', $4, 1, 'classified', $5, $6)`,
		id, userID, filename, store.ObjectKeyFor(userID, id), at, text); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSearchHostileWords: NUL bytes, invalid UTF-8, query syntax, the highest code point (the
// long-prefix probe's bound) and a word of 10,000 letters search without error on both
// databases, find only the user's own documents, and leave an ordinary search working.
func TestSearchHostileWords(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := newTestStore(t, d)
			alice := mustUser(t, s, "alice", store.RoleUser, 1<<30)
			bob := mustUser(t, s, "bob", store.RoleUser, 1<<30)
			insertText(t, s, alice.ID, "a.txt", "quokka "+strings.Repeat("x", 10000), time.Now().UTC())
			insertText(t, s, bob.ID, "b.txt", "quokka secret", time.Now().UTC())
			for _, q := range []string{"quok\x00ka", "quok\xff\xfe", "\xff\xfe\xfd", `quok" OR owner:*`, "quokka*", "NEAR(quokka secret)",
				"quok" + string(utf8.MaxRune), strings.Repeat("x", 10000), strings.Repeat("xy", 5000), "\x00\x00\x00", strings.Repeat("quokka ", 100)} {
				docs, _, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: q, Limit: 10})
				if err != nil {
					t.Fatalf("%q: %v", q, err)
				}
				for _, doc := range docs {
					if doc.UserID != alice.ID {
						t.Fatalf("%q: found %s of another user", q, doc.Filename)
					}
				}
			}
			want := 1
			if d == store.Postgres {
				want = 0 // PostgreSQL leaves words over 2,047 bytes out of a tsvector
			}
			if docs, _, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: strings.Repeat("x", 10000), Limit: 10}); err != nil || len(docs) != want {
				t.Fatalf("the 10,000-letter word: %d found, want %d (%v)", len(docs), want, err)
			}
			if docs, _, err := s.ListDocuments(ctx, alice.ID, store.DocumentFilter{Query: "quok", Limit: 10}); err != nil || len(docs) != 1 || docs[0].Filename != "a.txt" {
				t.Fatalf("quok after the hostile queries: %+v, %v", docs, err)
			}
		})
	}
}
