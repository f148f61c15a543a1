package server

import (
	"context"
	"fmt"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// JobsConfig sets how often each maintenance job runs.
type JobsConfig struct {
	DrainInterval     time.Duration // deletion outbox
	ExpiryInterval    time.Duration // unconfirmed uploads
	PendingTTL        time.Duration // age at which an unconfirmed upload is removed
	ReconcileInterval time.Duration // quota recomputation
	Locker            gocron.Locker // shared across replicas (nil: this process only)
}

// Jobs is the running scheduler.
type Jobs struct {
	sched gocron.Scheduler
}

// Maintenance jobs by name, each safe to run at any time and on any replica.
func (s *Server) maintenance(cfg JobsConfig) map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"drain-deletions": func(ctx context.Context) error {
			res, err := s.store.DrainDeletions(ctx, s.blobs, 500)
			if res.Deleted+res.Failed > 0 {
				s.log.Info("deletion outbox drained", "deleted", res.Deleted, "failed", res.Failed)
			}
			return err
		},
		"expire-pending": func(ctx context.Context) error {
			n, err := s.store.ExpirePending(ctx, s.now().Add(-cfg.PendingTTL))
			if n > 0 {
				s.log.Info("unconfirmed uploads expired", "count", n)
				_, _ = s.store.DrainDeletions(ctx, s.blobs, 500)
			}
			return err
		},
		"reconcile-quotas": func(ctx context.Context) error {
			_, err := s.store.ReconcileQuotas(ctx)
			return err
		},
		"prune-sessions": func(ctx context.Context) error {
			if _, err := s.store.PruneSessions(ctx); err != nil {
				return err
			}
			_, err := s.store.PruneLoginFailures(ctx, s.now().Add(-throttleWindow))
			return err
		},
	}
}

// RunJob runs one maintenance job now (tests, and the CLI).
func (s *Server) RunJob(ctx context.Context, cfg JobsConfig, name string) error {
	job, ok := s.maintenance(cfg)[name]
	if !ok {
		return fmt.Errorf("server: no job %q", name)
	}
	return job(ctx)
}

// StartJobs schedules the maintenance jobs with gocron.
func (s *Server) StartJobs(cfg JobsConfig) (*Jobs, error) {
	var opts []gocron.SchedulerOption
	if cfg.Locker != nil {
		opts = append(opts, gocron.WithDistributedLocker(cfg.Locker))
	}
	sched, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("server: scheduler: %w", err)
	}
	every := map[string]time.Duration{
		"drain-deletions": cfg.DrainInterval, "expire-pending": cfg.ExpiryInterval,
		"reconcile-quotas": cfg.ReconcileInterval, "prune-sessions": time.Hour,
	}
	for name, job := range s.maintenance(cfg) {
		run := func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			s.metrics.scheduledJobs.WithLabelValues(name).Inc()
			s.log.Info("scheduled job ran", "job", name)
			if err := job(ctx); err != nil {
				s.metrics.scheduledJobErrors.WithLabelValues(name).Inc()
				s.log.Error("scheduled job failed", "job", name, "err", err)
			}
		}
		if _, err := sched.NewJob(gocron.DurationJob(every[name]), gocron.NewTask(run), gocron.WithName(name),
			gocron.WithSingletonMode(gocron.LimitModeReschedule)); err != nil {
			return nil, fmt.Errorf("server: schedule %s: %w", name, err)
		}
	}
	sched.Start()
	return &Jobs{sched: sched}, nil
}

// Stop waits for running jobs and stops the scheduler.
func (j *Jobs) Stop() error { return j.sched.Shutdown() }
