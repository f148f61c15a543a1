package classify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// benchDocs is how many documents one round of BenchmarkLocalThroughput uploads.
const benchDocs = 400

// BenchmarkLocalThroughput measures the local classifier end to end on each database:
// documents of the labelled corpus are uploaded (row, object, confirmation), then the pool
// (2 workers) classifies them all; docs/min is the whole way, classified/min the pool's
// part. Beside it, in the same run: the upload alone (the baseline); the same documents for
// a user whose learned model holds the counts of 100,000 corrected documents; and the ratio
// of that user's classification time to that of a user without corrections, measured in
// alternating rounds. All but the ratio report documents per minute.
func BenchmarkLocalThroughput(b *testing.B) {
	for _, dialect := range testenv.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			c, err := LoadCorpus("testdata/corpus")
			if err != nil {
				b.Fatal(err)
			}
			f := newFixture(b, dialect)
			ids := map[string]string{}
			for _, tp := range c.Topics {
				ids[tp.Name] = f.topic(b, nil, tp.Name, tp.Description).ID
			}
			// ref makes each upload a new file (a reference number of its own), so none is
			// removed as a second copy instead of being classified.
			seq := 0
			ref := func(text string) string { seq++; return fmt.Sprintf("%s\nRef. %07d\n", text, seq) }
			run := func(b *testing.B, u store.User, classify bool) {
				var uploading, classifying time.Duration
				for i := 0; i < b.N; i++ {
					start := time.Now()
					for k := range benchDocs {
						d := c.Docs[k%len(c.Docs)]
						uploadAsServer(b, f, u, d.Filename, ref(d.Text))
					}
					uploading += time.Since(start)
					// The baseline's documents are classified too, untimed, so the queue is empty
					// when the next measurement starts.
					took := drain(b, f)
					if classify {
						classifying += took
					}
				}
				var unclassified int
				if err := f.st.DB().QueryRowContext(context.Background(),
					`SELECT COUNT(*) FROM documents WHERE user_id = $1 AND status <> 'classified'`, u.ID).Scan(&unclassified); err != nil || unclassified > 0 {
					b.Fatalf("%d documents not classified (%v)", unclassified, err)
				}
				docs := float64(benchDocs * b.N)
				b.ReportMetric(docs/(uploading+classifying).Minutes(), "docs/min")
				if classify {
					b.ReportMetric(docs/classifying.Minutes(), "classified/min")
				}
			}
			n := 0
			fresh := func() store.User { n++; return f.user(b, fmt.Sprintf("u%d", n)) }
			b.Run("baseline-upload-only", func(b *testing.B) { run(b, fresh(), false) })
			b.Run("cold-start", func(b *testing.B) { run(b, fresh(), true) })
			var learned *store.User // seeded once, shared by the runs below
			learnedUser := func() store.User {
				if learned == nil {
					u := fresh()
					seedModel(b, f.st, u.ID, c, ids, 100_000)
					learned = &u
				}
				return *learned
			}
			b.Run("learned-100k", func(b *testing.B) { run(b, learnedUser(), true) })
			// The ratio the learned model costs: rounds of the same documents alternate between
			// a user without corrections and the 100k-document user, so a machine that slows
			// down or speeds up meanwhile weighs on both alike.
			b.Run("learned-vs-cold", func(b *testing.B) {
				cold, warm := fresh(), learnedUser()
				var coldTook, warmTook time.Duration
				const rounds, per = 4, benchDocs / 4
				for i := 0; i < b.N; i++ {
					for r := range rounds {
						for _, u := range []store.User{cold, warm} {
							for k := range per {
								d := c.Docs[(r*per+k)%len(c.Docs)]
								uploadAsServer(b, f, u, d.Filename, ref(d.Text))
							}
							took := drain(b, f)
							if u.ID == cold.ID {
								coldTook += took
							} else {
								warmTook += took
							}
						}
					}
				}
				docs := float64(rounds * per * b.N)
				b.ReportMetric(docs/coldTook.Minutes(), "cold-classified/min")
				b.ReportMetric(docs/warmTook.Minutes(), "learned-classified/min")
				b.ReportMetric(float64(warmTook)/float64(coldTook), "learned/cold")
			})
		})
	}
}

// drain runs the pool (2 workers) until the queue is empty and returns how long it took.
func drain(b *testing.B, f *fixture) time.Duration {
	b.Helper()
	start := time.Now()
	p := New(Config{Workers: 2, PollInterval: 10 * time.Millisecond, Logger: quiet}, f.st, f.blobs, nil)
	p.Start()
	defer p.Stop(context.Background())
	for {
		n, err := f.st.QueueDepth(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// uploadAsServer stores a document the way an upload through the server does: the pending
// row, the bytes, then the confirmation with the checksum the local store computed while
// the bytes streamed in.
func uploadAsServer(b *testing.B, f *fixture, u store.User, name, text string) {
	b.Helper()
	ctx := context.Background()
	d, err := f.st.CreatePending(ctx, u.ID, name, "text/plain", int64(len(text)))
	if err != nil {
		b.Fatal(err)
	}
	info, err := f.blobs.Put(ctx, d.ObjectKey, strings.NewReader(text), 1<<30, "text/plain")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.st.ConfirmUpload(ctx, u.ID, d.ID, info.Size, info.SHA256); err != nil {
		b.Fatal(err)
	}
}

// seedModel writes the counts a user would have after correcting docs documents like the
// corpus's: the corpus's counts scaled up, plus a long tail of rare terms (names, numbers)
// that a real collection of that size collects.
func seedModel(b *testing.B, st *store.Store, userID string, c Corpus, ids map[string]string, docs int) {
	b.Helper()
	m := NewModel()
	for _, d := range c.Docs {
		m.Learn(d.Filename, d.Text, ids[d.Topic])
	}
	scale := int64(docs / len(c.Docs))
	type row struct {
		term, topic string
		n           int64
	}
	var rows []row
	for term, per := range m.count {
		for topic, n := range per {
			rows = append(rows, row{term, topic, n * scale})
		}
	}
	topics := make([]string, 0, len(ids))
	for _, id := range ids {
		topics = append(topics, id)
	}
	for i := range 200_000 {
		rows = append(rows, row{fmt.Sprintf("rare%07d", i), topics[i%len(topics)], 1 + int64(i%3)})
	}
	ctx := context.Background()
	for start := 0; start < len(rows); start += 500 {
		chunk := rows[start:min(start+500, len(rows))]
		var q strings.Builder
		args := make([]any, 0, 4*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(",")
			}
			fmt.Fprintf(&q, "($%d, $%d, $%d, $%d)", 4*i+1, 4*i+2, 4*i+3, 4*i+4)
			args = append(args, userID, r.term, r.topic, r.n)
		}
		if _, err := st.DB().ExecContext(ctx, `INSERT INTO topic_terms (user_id, term, topic_id, n) VALUES `+q.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	for _, id := range ids {
		if _, err := st.DB().ExecContext(ctx, `INSERT INTO topic_stats (user_id, topic_id, docs, terms) VALUES ($1, $2, $3, $4)`,
			userID, id, m.docs[id]*scale, m.terms[id]*scale); err != nil {
			b.Fatal(err)
		}
	}
}
