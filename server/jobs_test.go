package server_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

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
		t.Cleanup(func() { _ = jobs.Stop() })
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
