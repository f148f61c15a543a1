package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/docuvault/docuvault/integrity"
	"github.com/docuvault/docuvault/store"
)

// JobsConfig sets how often each maintenance job runs.
type JobsConfig struct {
	DrainInterval     time.Duration // deletion outbox
	ExpiryInterval    time.Duration // unconfirmed uploads
	PendingTTL        time.Duration // age at which an unconfirmed upload is removed
	ReconcileInterval time.Duration // quota recomputation
	IntegrityInterval time.Duration // integrity sweep (see package integrity)
	TrashRetention    time.Duration // age at which a trashed document is deleted for good (default 30 days)
	PurgeInterval     time.Duration // how often expired trash is looked for (default hourly)
	// Distributed runs each job once per tick across every replica sharing the database:
	// a Postgres advisory lock for the run, and the job_runs table for the tick.
	Distributed bool
}

// DefaultTrashRetention is how long a trashed document is kept (documents.trash_days).
const DefaultTrashRetention = 30 * 24 * time.Hour

// errSkipped tells gocron that another replica has this tick.
var errSkipped = errors.New("job runs on another replica this tick")

// dbLocker is gocron's distributed locker over the database.
type dbLocker struct {
	st    *store.Store
	every map[string]time.Duration
}

type unlockFunc func(context.Context) error

func (u unlockFunc) Unlock(ctx context.Context) error { return u(ctx) }

// Lock takes the job's advisory lock, then claims the tick; either failing skips the run here.
func (l dbLocker) Lock(ctx context.Context, key string) (gocron.Lock, error) {
	unlock, ok, err := l.st.TryAdvisoryLock(ctx, "job:"+key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errSkipped
	}
	claimed, err := l.st.ClaimTick(ctx, key, l.every[key])
	if err != nil || !claimed {
		_ = unlock(ctx)
		if err == nil {
			err = errSkipped
		}
		return nil, err
	}
	return unlockFunc(unlock), nil
}

// Jobs is the running scheduler. Its jobs run under a context that Stop cancels, and Stop
// waits for them, so none outlives the store and blob store it uses.
type Jobs struct {
	sched   gocron.Scheduler
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	stopped bool
	running sync.WaitGroup
}

// begin counts a job run in, unless Stop has begun.
func (j *Jobs) begin() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.stopped {
		return false
	}
	j.running.Add(1)
	return true
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
		"purge-trash": func(ctx context.Context) error {
			n, err := s.store.PurgeTrash(ctx, s.now().Add(-cmp.Or(cfg.TrashRetention, DefaultTrashRetention)), 500)
			if n > 0 {
				s.log.Info("expired trash purged", "count", n)
				_, _ = s.store.DrainDeletions(ctx, s.blobs, 500)
			}
			return err
		},
		"reconcile-quotas": func(ctx context.Context) error {
			if _, err := s.store.ReconcileQuotas(ctx); err != nil {
				return err
			}
			_, err := s.store.ReconcileListCounters(ctx)
			return err
		},
		"integrity-sweep": func(ctx context.Context) error {
			r, err := integrity.Check(ctx, s.store, s.rawBlobs, integrity.Options{Fix: true, OrphanAge: s.opts.UploadURLTTL,
				TempAge: s.opts.Timeouts.Upload, Now: s.now})
			for _, p := range r.Problems {
				s.log.Warn("integrity problem", "kind", p.Kind, "document_id", p.DocumentID, "object_key", p.Key, "detail", p.Detail, "fixed", p.Fixed)
			}
			s.log.Info("integrity sweep", "documents", r.Documents, "objects", r.Objects, "temp_removed", r.TempRemoved,
				"problems", len(r.Problems), "unfixed", r.Unfixed())
			return err
		},
		"prune-sessions": func(ctx context.Context) error {
			if _, err := s.store.PruneSessions(ctx); err != nil {
				return err
			}
			_, err := s.store.PruneLoginThrottle(ctx, s.now().Add(-throttleKeep))
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
	every := map[string]time.Duration{
		"drain-deletions": cfg.DrainInterval, "expire-pending": cfg.ExpiryInterval,
		"reconcile-quotas": cfg.ReconcileInterval, "prune-sessions": time.Hour,
		"integrity-sweep": cmp.Or(cfg.IntegrityInterval, 24*time.Hour), "purge-trash": cmp.Or(cfg.PurgeInterval, time.Hour),
	}
	var opts []gocron.SchedulerOption
	if cfg.Distributed {
		opts = append(opts, gocron.WithDistributedLocker(dbLocker{st: s.store, every: every}))
	}
	sched, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("server: scheduler: %w", err)
	}
	jobs := &Jobs{sched: sched}
	jobs.ctx, jobs.cancel = context.WithCancel(context.Background())
	for name, job := range s.maintenance(cfg) {
		run := func() {
			if !jobs.begin() {
				return
			}
			defer jobs.running.Done()
			// A run may take up to its own interval (at least five minutes): the daily
			// integrity sweep reads every object, a drain a few hundred keys.
			ctx, cancel := context.WithTimeout(jobs.ctx, max(5*time.Minute, every[name]))
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
			jobs.cancel()
			_ = sched.Shutdown()
			return nil, fmt.Errorf("server: schedule %s: %w", name, err)
		}
	}
	sched.Start()
	return jobs, nil
}

// Stop cancels the context of the running jobs (each is safe to cut short: it runs again at
// its next tick), stops the scheduler and waits until every job has returned or ctx ends.
func (j *Jobs) Stop(ctx context.Context) error {
	j.mu.Lock()
	j.stopped = true
	j.mu.Unlock()
	j.cancel()
	done := make(chan error, 1)
	go func() {
		err := j.sched.Shutdown()
		j.running.Wait()
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("server: stop jobs: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("server: stop jobs: %w", ctx.Err())
	}
}
