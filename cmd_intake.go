package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

// startConsume runs the consume folders when intake.consume_dir is set; the returned stop
// waits until the files in flight are done.
func startConsume(ctx context.Context, cfg Config, st *store.Store, in *ingest.Service, log *slog.Logger) (stop func(), err error) {
	if cfg.Intake.ConsumeDir == "" {
		return func() {}, nil
	}
	c, err := intake.NewConsumer(intake.ConsumeOptions{Dir: cfg.Intake.ConsumeDir, Store: st, Ingest: in, Logger: log,
		Settle: time.Duration(cfg.Intake.Settle), Rescan: time.Duration(cfg.Intake.Rescan)})
	if err != nil {
		return nil, fmt.Errorf("intake.consume_dir: %w", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(cctx)
	}()
	log.Info("consume folders watched", "dir", cfg.Intake.ConsumeDir)
	return func() { cancel(); <-done }, nil
}
