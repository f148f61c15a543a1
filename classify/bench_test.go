package classify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/store"
)

var benchTopics = func() []Candidate {
	names := []string{"Finance", "Health", "Travel", "Garden", "Legal", "Insurance", "Taxes", "Car", "School", "Work",
		"Recipes", "Pets", "House", "Energy", "Phone", "Music", "Books", "Sport", "Family", "Hobbies"}
	out := make([]Candidate, len(names))
	for i, n := range names {
		out[i] = Candidate{ID: fmt.Sprint(i), Name: n, Description: strings.ToLower(n) + " documents and letters about " + strings.ToLower(n)}
	}
	return out
}()

const benchText = `Dear customer, please find attached your electricity invoice for March. The amount of
84.20 EUR will be debited from your bank account on the 15th. Your energy consumption was 230 kWh,
slightly lower than last year. For questions about your contract or taxes call our service line.`

// BenchmarkLocalClassify measures offline classification of small documents against 20
// topics; the baseline in the same run is splitting the same text into words alone.
func BenchmarkLocalClassify(b *testing.B) {
	b.Run("baseline-split-words", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = splitWords(benchText, maxWords)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("local-classify", func(b *testing.B) {
		req := Request{Filename: "invoice-march.txt", Text: benchText, Candidates: benchTopics}
		l := NewLocal()
		for i := 0; i < b.N; i++ {
			if _, err := l.Classify(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
}

// BenchmarkPoolRemote measures pool throughput (on SQLite) with a fake remote provider that
// answers after 500 ms, 16 workers; the baseline is the ideal 16 / 0.5 s = 32 docs/s.
func BenchmarkPoolRemote(b *testing.B) {
	f := newFixture(b, "sqlite")
	u := f.user(b, "bench")
	f.topic(b, nil, "Finance", "")
	docs := 64
	for i := 0; i < docs; i++ {
		f.upload(b, u, fmt.Sprintf("d%d.txt", i), "text/plain", benchText+fmt.Sprint(i)) // distinct bytes: not duplicates
	}
	slow := ProviderFunc(func(ctx context.Context, _ Request) ([]Choice, error) {
		select {
		case <-time.After(500 * time.Millisecond):
			return []Choice{{Name: "Finance", Confidence: 0.9}}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if i > 0 {
			b.StopTimer()
			if _, err := f.st.DB().Exec(`UPDATE documents SET status = 'uploaded', attempts = 0, next_attempt_at = created_at`); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		p := New(Config{Workers: 16, DefaultProvider: "openai", Logger: quiet, PollInterval: 10 * time.Millisecond}, f.st, f.blobs,
			map[string]Provider{"openai": slow})
		p.Start()
		for {
			n, _ := f.st.QueueDepth(context.Background())
			if n == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		_ = p.Stop(context.Background())
	}
	elapsed := time.Since(start).Seconds()
	b.ReportMetric(float64(docs*b.N)/elapsed, "docs/s")
	b.ReportMetric(16/0.5, "baseline-ideal-docs/s")
	_ = store.StatusClassified
}
