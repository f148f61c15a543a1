package main

import (
	"context"
	"fmt"
	"io"

	"github.com/docuvault/docuvault/store"
)

// cmdMigrate moves the schema: up (then drains the deletion outbox), down one step, or status.
func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	if len(args) == 0 {
		return usageError{"migrate: want up, down or status"}
	}
	action, rest := args[0], args[1:]
	cfgPath, err := parseFlags("migrate "+action, rest, stderr, nil)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cfgPath, env)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	switch action {
	case "up":
		if err := st.MigrateUp(ctx); err != nil {
			return err
		}
		blobs, err := openBlobs(ctx, cfg, st)
		if err != nil {
			fmt.Fprintf(stderr, "blob store unavailable (%v): queued deletions stay in the outbox for the next start\n", err)
		} else if _, err := st.DrainDeletions(ctx, blobs, 10000); err != nil {
			return err
		}
	case "down":
		from, err := st.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		v, err := st.MigrateDownOne(ctx)
		if err != nil {
			return err
		}
		if v == "" {
			v = "(empty)"
		}
		fmt.Fprintln(stdout, "migrated down to", v)
		if note := store.DownNote(from); note != "" {
			fmt.Fprintln(stdout, note)
		}
		return nil
	case "status":
	default:
		return usageError{fmt.Sprintf("migrate: unknown action %q (want up, down or status)", action)}
	}
	current, known, err := st.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	for _, v := range known {
		mark := "pending"
		if v <= current {
			mark = "applied"
		}
		fmt.Fprintf(stdout, "%-8s %s\n", mark, v)
	}
	if current >= "0003" { // the outbox exists from 0003 on
		n, err := st.PendingDeletions(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deletion outbox: %d object(s) waiting\n", n)
	}
	return nil
}
