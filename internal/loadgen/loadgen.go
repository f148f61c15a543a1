// Package loadgen seeds a DocuVault database with many documents of realistic text and
// measures the store's hot paths on it (lists, searches, writes), each beside a baseline.
package loadgen

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/docuvault/docuvault/store"
)

// Options say how big a database to seed.
type Options struct {
	Documents int // in all
	Users     int // one of them holds a tenth of the documents, the rest share the others
	Seed      uint64
	Progress  io.Writer // a line per 10% seeded; nil for none
}

// commonWords head the vocabulary, so "the" is in nearly every document, as in real text.
var commonWords = strings.Fields(`the of and to in a is that for it as with was on be by this are or from at
	invoice tax insurance contract bank payment account rent doctor school`)

// Corpus is a seeded database: its users (the first is the big one) and words by frequency.
type Corpus struct {
	Users    []store.User
	RareWord string // in about a hundred of the big user's documents
	PairA    string // with PairB, a two-word query of about a thousand hits
	PairB    string
}

// vocabulary is the common words, then synthetic words to the given size.
func vocabulary(n int) []string {
	v := slices.Clone(commonWords)
	for i := len(v); i < n; i++ {
		v = append(v, "w"+strconv.Itoa(i))
	}
	return v
}

// Seed creates the users and the documents (classified, with 50 to 200 words of text each,
// Zipf-distributed), in transactions of a few thousand rows.
func Seed(ctx context.Context, st *store.Store, o Options) (Corpus, error) {
	var c Corpus
	if o.Users < 1 {
		o.Users = 10
	}
	for i := range o.Users {
		u, err := st.CreateUser(ctx, store.NewUser{Username: fmt.Sprintf("load%02d-%d", i, time.Now().UnixNano()),
			PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA", Role: store.RoleUser, LimitBytes: 1 << 50})
		if err != nil {
			return c, err
		}
		c.Users = append(c.Users, u)
	}
	vocab := vocabulary(50000)
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	zipf := rand.NewZipf(rng, 1.07, 2, uint64(len(vocab)-1))
	big := o.Documents / 10
	start := time.Now().Add(-time.Duration(o.Documents) * time.Second).UTC()
	const batch = 2000
	var text strings.Builder
	for done := 0; done < o.Documents; {
		n := min(batch, o.Documents-done)
		err := inTx(ctx, st.DB(), func(tx *sql.Tx) error {
			stmt, err := tx.PrepareContext(ctx, `INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes,
				status, created_at, uploaded_at, classified_at, text, name_key) VALUES ($1, $2, $3, 'text/plain', $4, 1000, 'classified', $5, $5, $5, $6, $3)`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for i := done; i < done+n; i++ {
				owner := c.Users[0]
				if i >= big && len(c.Users) > 1 {
					owner = c.Users[1+i%(len(c.Users)-1)]
				}
				text.Reset()
				for w := range 50 + rng.IntN(151) {
					if w > 0 {
						text.WriteByte(' ')
					}
					text.WriteString(vocab[zipf.Uint64()])
				}
				id := uuid.Must(uuid.NewV7()).String()
				at := start.Add(time.Duration(i) * time.Second)
				if _, err := stmt.ExecContext(ctx, id, owner.ID, "document-"+strconv.Itoa(i)+".txt", store.ObjectKeyFor(owner.ID, id), at, text.String()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return c, fmt.Errorf("loadgen: seed: %w", err)
		}
		before := done * 10 / max(o.Documents, 1)
		done += n
		if o.Progress != nil && done*10/o.Documents != before {
			fmt.Fprintf(o.Progress, "seeded %d of %d documents\n", done, o.Documents)
		}
	}
	if _, err := st.DB().ExecContext(ctx, `UPDATE quotas SET used_bytes = (SELECT COUNT(*) * 1000 FROM documents d WHERE d.user_id = quotas.user_id),
		document_count = (SELECT COUNT(*) FROM documents d WHERE d.user_id = quotas.user_id)`); err != nil {
		return c, err
	}
	if st.Dialect() == store.Postgres {
		if _, err := st.DB().ExecContext(ctx, `ANALYZE`); err != nil {
			return c, err
		}
	}
	c.pickWords(o.Documents)
	return c, nil
}

// pickWords chooses the query words by the Zipf law the corpus was written with.
func (c *Corpus) pickWords(docs int) {
	vocab := vocabulary(50000)
	c.RareWord = pickWord(vocab, docs, 1000)
	c.PairA, c.PairB = pickWord(vocab, docs, 60000), pickWord(vocab, docs, 200000)
}

// Existing is the corpus an earlier Seed left in st: its users, the biggest first.
func Existing(ctx context.Context, st *store.Store) (Corpus, error) {
	var c Corpus
	rows, err := st.DB().QueryContext(ctx, `SELECT u.id FROM users u JOIN quotas q ON q.user_id = u.id
		WHERE u.username LIKE 'load%' ORDER BY q.used_bytes DESC`)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return c, err
		}
		u, err := st.UserByID(ctx, id)
		if err != nil {
			return c, err
		}
		c.Users = append(c.Users, u)
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	if len(c.Users) == 0 {
		return c, fmt.Errorf("loadgen: no seeded users in this database")
	}
	var docs int
	if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM documents`).Scan(&docs); err != nil {
		return c, err
	}
	c.pickWords(docs)
	return c, nil
}

// pickWord is a vocabulary word expected in about want of docs documents (Zipf, s = 1.07).
func pickWord(vocab []string, docs, want int) string {
	var h float64
	for k := range len(vocab) {
		h += 1 / math.Pow(float64(k+2), 1.07)
	}
	wordsPerDoc := 125.0
	for k := range len(vocab) {
		p := 1 / math.Pow(float64(k+2), 1.07) / h
		expect := float64(docs) * (1 - math.Pow(1-p, wordsPerDoc))
		if expect <= float64(want) {
			return vocab[k]
		}
	}
	return vocab[len(vocab)-1]
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
