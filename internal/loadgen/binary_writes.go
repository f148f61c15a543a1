package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// letter is a text as household papers read (see SeedUser's words), 40 to 160 words, led by
// a number no other upload of the run has: the server refuses duplicates.
func (b *bench) letter() string {
	n := b.seq.Add(1)
	rng := rand.New(rand.NewPCG(uint64(n), uint64(time.Now().UnixNano())))
	var s strings.Builder
	fmt.Fprintf(&s, "dvbench %d %d", time.Now().UnixNano(), n)
	for range 40 + rng.IntN(121) {
		s.WriteByte(' ')
		if rng.IntN(2) == 0 {
			s.WriteString(functionWords[rng.IntN(len(functionWords))])
		} else {
			s.WriteString(topicWords[rng.IntN(len(topicWords))])
		}
	}
	return s.String()
}

// uploads times one upload (upload-url, PUT, confirm of a small text), sequentially, beside
// three authenticated GETs in a row.
func (b *bench) uploads(ctx context.Context, c *apiClient, own []string) ([]string, error) {
	b.logf("sequential uploads, %d runs", b.o.Runs)
	three, _, err := timeIt(b.o.Runs, func(int) error {
		for range 3 {
			if err := c.get(ctx, "/api/auth/me", nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return own, err
	}
	p50, p95, err := timeIt(b.o.Runs, func(i int) error {
		id, err := c.uploadText(ctx, fmt.Sprintf("dvbench-upload-%d.txt", i), b.letter())
		if id != "" {
			own = append(own, id)
		}
		return err
	})
	if err != nil {
		return own, fmt.Errorf("upload: %w", err)
	}
	b.rows = append(b.rows, latencyRow("one upload (upload-url + PUT + confirm), sequential", p50, p95, three,
		"three GET /api/auth/me in a row", 20*time.Millisecond, true))
	return own, nil
}

// drain waits until none of the user's documents waits for classification.
func (b *bench) drain(ctx context.Context, c *apiClient, limit time.Duration) error {
	start := time.Now()
	deadline, report := start.Add(limit), start.Add(10*time.Second)
	for {
		var pg page
		if err := c.get(ctx, "/api/documents?status=uploaded&limit=1", &pg); err != nil {
			return err
		}
		if len(pg.Items) == 0 {
			return nil
		}
		if now := time.Now(); now.After(deadline) {
			return fmt.Errorf("documents still waiting for classification after %v", limit)
		} else if now.After(report) {
			b.logf("waiting for classification for %v", now.Sub(start).Round(time.Second))
			report = now.Add(10 * time.Second)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// parallel runs op on n goroutines (op gets its goroutine's number) and returns the first error.
func parallel(n int, op func(g int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for g := range n {
		wg.Go(func() { errs[g] = op(g) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// classification uploads K texts (4 at a time) and times until the local classifier has
// finished them all, beside the same uploads' rate alone. A ratio near 1 means the
// classifier keeps up with the uploads; how far it lags shows in the time it needs after
// the last upload.
func (b *bench) classification(ctx context.Context, c *apiClient, own []string) ([]string, error) {
	if err := b.drain(ctx, c, 10*time.Minute); err != nil {
		return own, err
	}
	k := b.o.Classify
	b.logf("classification of %d uploads", k)
	ids := make([]string, k)
	var next atomic.Int64
	start := time.Now()
	err := parallel(4, func(int) error {
		for i := int(next.Add(1) - 1); i < k; i = int(next.Add(1) - 1) {
			id, err := c.uploadText(ctx, fmt.Sprintf("dvbench-classify-%d.txt", i), b.letter())
			ids[i] = id
			if err != nil {
				return err
			}
		}
		return nil
	})
	uploaded := time.Since(start)
	for _, id := range ids {
		if id != "" {
			own = append(own, id)
		}
	}
	if err != nil {
		return own, fmt.Errorf("classification uploads: %w", err)
	}
	if err := b.drain(ctx, c, 30*time.Minute); err != nil {
		return own, err
	}
	done := time.Since(start)
	var failed int
	for _, id := range ids {
		var d struct {
			Status string `json:"status"`
		}
		if err := c.get(ctx, "/api/documents/"+id, &d); err != nil {
			return own, err
		}
		if d.Status != "classified" {
			failed++
		}
	}
	perMin := float64(k) / done.Minutes()
	upMin := float64(k) / uploaded.Minutes()
	b.rows = append(b.rows, Row{Figure: fmt.Sprintf("classification, local classifier, %d uploads (from the first upload to the last classified)", k),
		Value: fmt.Sprintf("%.0f documents/min, the last %s after the last upload, %d not classified", perMin, ms(done-uploaded), failed), Baseline: fmt.Sprintf("the uploads alone: %.0f/min", upMin),
		Num: perMin, Base: upMin, Ratio: perMin / upMin, Goal: "≥ 10,000/min, all classified", Met: met(perMin >= 10000 && failed == 0)})
	return own, nil
}

// rate runs op on n clients, each starting operations until d has passed and finishing the
// one under way (none is cut short: a cancelled upload would leave a pending document and
// count as neither), and returns the operations per second that succeeded, how many failed
// and the first failure.
func rate(ctx context.Context, n int, d time.Duration, op func(ctx context.Context, client, i int) error) (float64, int64, error) {
	var ok, failed atomic.Int64
	var first sync.Once
	var firstErr error
	start := time.Now()
	deadline := start.Add(d)
	_ = parallel(n, func(g int) error {
		for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
			if err := op(ctx, g, i); err != nil {
				failed.Add(1)
				first.Do(func() { firstErr = err })
			} else {
				ok.Add(1)
			}
		}
		return nil
	})
	return float64(ok.Load()) / time.Since(start).Seconds(), failed.Load(), firstErr
}

// logFailures says on the progress output that a rate figure had failures, and the first.
func (b *bench) logFailures(what string, failed int64, err error) {
	if failed > 0 {
		b.logf("%s: %d failed requests, the first: %v", what, failed, err)
	}
}

// writers uploads one document per writer, waits for their classification, then has the
// writers rename their documents for the duration; it returns writes/s and failures.
func (b *bench) writers(ctx context.Context, c *apiClient, own []string, db string) (float64, int64, []string, error) {
	docs := make([]string, b.o.Writers)
	for i := range docs {
		id, err := c.uploadText(ctx, fmt.Sprintf("dvbench-writer-%d.txt", i), b.letter())
		if id != "" {
			own = append(own, id)
		}
		if err != nil {
			return 0, 0, own, err
		}
		docs[i] = id
	}
	if err := b.drain(ctx, c, 10*time.Minute); err != nil {
		return 0, 0, own, err
	}
	b.logf("%d writers renaming on the %s database for %v", b.o.Writers, db, b.o.Duration)
	perSec, failed, ferr := rate(ctx, b.o.Writers, b.o.Duration, func(ctx context.Context, g, i int) error {
		return c.call(ctx, "PATCH", "/api/documents/"+docs[g], jsonBody(map[string]string{"filename": fmt.Sprintf("dvbench-writer-%d-%d.txt", g, i)}),
			map[string]string{"Content-Type": "application/json"}, http.StatusOK, nil)
	})
	b.logFailures("writers on the "+db+" database", failed, ferr)
	return perSec, failed, own, nil
}

// cycles measures the per-request rate of upload cycles beside authenticated GETs of one of
// the user's documents (as BenchmarkUploadCycleVsGet does in process), each with the
// configured number of concurrent clients, all signed in as the one user (the seeded
// database is not given more users).
func (b *bench) cycles(ctx context.Context, c *apiClient, own []string) ([]string, error) {
	b.logf("%d clients: GETs for %v, then upload cycles for %v", b.o.Clients, b.o.Duration, b.o.Duration)
	doc := "/api/documents/" + own[len(own)-1]
	gets, gfail, gerr := rate(ctx, b.o.Clients, b.o.Duration, func(ctx context.Context, _, _ int) error {
		return c.get(ctx, doc, nil)
	})
	var mu sync.Mutex
	cyc, cfail, cerr := rate(ctx, b.o.Clients, b.o.Duration, func(ctx context.Context, g, i int) error {
		id, err := c.uploadText(ctx, fmt.Sprintf("dvbench-cycle-%d-%d.txt", g, i), b.letter())
		if id != "" {
			mu.Lock()
			own = append(own, id)
			mu.Unlock()
		}
		return err
	})
	b.logFailures("GETs", gfail, gerr)
	b.logFailures("upload cycles", cfail, cerr)
	perReq := 3 * cyc
	b.rows = append(b.rows, Row{Figure: fmt.Sprintf("upload cycle (3 requests) per-request rate vs an authenticated GET, %d clients", b.o.Clients),
		Value:    fmt.Sprintf("%.0f requests/s (%.0f cycles/s), %d failed", perReq, cyc, cfail),
		Baseline: fmt.Sprintf("GET of a document: %.0f/s, %d failed", gets, gfail),
		Num:      perReq, Base: gets, Ratio: perReq / gets, Goal: "≥ 0.5×", Met: met(perReq >= 0.5*gets && cfail+gfail == 0)})
	return own, b.drain(ctx, c, 30*time.Minute)
}

// deleteAll deletes the run's documents, 4 at a time.
func (b *bench) deleteAll(ctx context.Context, c *apiClient, ids []string) error {
	var next atomic.Int64
	return parallel(4, func(int) error {
		for i := int(next.Add(1) - 1); i < len(ids); i = int(next.Add(1) - 1) {
			if i > 0 && i%max(len(ids)/10, 1) == 0 {
				b.logf("deleted %d of %d", i, len(ids))
			}
			err := c.call(ctx, "DELETE", "/api/documents/"+ids[i], nil, nil, http.StatusNoContent, nil)
			if err != nil && !strings.Contains(err.Error(), ": 404 ") {
				return err
			}
		}
		return nil
	})
}
