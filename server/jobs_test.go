package server_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// counterValue reads one labelled counter from a server's metrics.
func counterValue(t *testing.T, m *server.Metrics, name, label, value string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return metric.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestScheduledJobOncePerTick runs three replicas' schedulers on one Postgres database with
// a 300 ms job: together they run it about once per tick, not three times.
func TestScheduledJobOncePerTick(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	start := time.Now()
	var metrics []*server.Metrics
	for i := 0; i < 3; i++ {
		st, err := store.Open(ctx, store.Postgres, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		m := server.NewMetrics(st.DB(), st.QueueDepth, st.PendingDeletions)
		blobs := newEnv(t, "sqlite", "local").blobs
		srv, err := server.New(server.Options{Store: st, Blobs: blobs, Metrics: m, PasswordParams: cheap, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := srv.StartJobs(server.JobsConfig{DrainInterval: time.Hour, ExpiryInterval: 300 * time.Millisecond, PendingTTL: time.Hour,
			ReconcileInterval: time.Hour, Distributed: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = jobs.Stop(context.Background()) })
		metrics = append(metrics, m)
	}
	window := 3 * time.Second
	time.Sleep(window)
	total := 0.0
	for _, m := range metrics {
		total += counterValue(t, m, "docuvault_scheduled_job_runs_total", "job", "expire-pending")
	}
	elapsed := time.Since(start)
	ticks := float64(elapsed / (300 * time.Millisecond))
	if total < ticks/3 || total > ticks+1 {
		t.Fatalf("expire-pending ran %v times across 3 replicas in %v, %v ticks of 300 ms (want at most one a tick)", total, elapsed, ticks)
	}
	t.Logf("runs across replicas: %v in %v ticks", total, ticks)
}

// stuckDeletes is a blob store whose deletes hang until their context ends.
type stuckDeletes struct {
	blob.Store
	entered  chan struct{}
	returned atomic.Bool
}

func (s *stuckDeletes) Delete(ctx context.Context, _ string) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	s.returned.Store(true)
	return ctx.Err()
}

// TestJobsStopCancelsAndWaits: a scheduled job stuck in a blob delete gets its context
// cancelled by Stop, and Stop returns only once the job has returned.
func TestJobsStopCancelsAndWaits(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		stuck := &stuckDeletes{Store: e.blobs, entered: make(chan struct{}, 1)}
		o := e.opts
		o.Blobs = stuck
		srv, err := server.New(o)
		if err != nil {
			t.Fatal(err)
		}
		u := e.createUser("alice", store.RoleUser, 1<<20)
		d, err := e.store.CreatePending(ctx, u.ID, "a.txt", "text/plain", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.DiscardPending(ctx, u.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		jobs, err := srv.StartJobs(server.JobsConfig{DrainInterval: 20 * time.Millisecond, ExpiryInterval: time.Hour,
			PendingTTL: time.Hour, ReconcileInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		<-stuck.entered
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := jobs.Stop(sctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
		if !stuck.returned.Load() {
			t.Fatal("Stop returned while the job was still running")
		}
	})
}
