package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/docuvault/docuvault/integrity"
)

// cmdCheck is `docuvault check [-fix]`: the integrity check of package integrity, printed as a
// report (counts, then one line per problem); problems left unfixed make it exit 1.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	var fix bool
	cfgPath, err := parseFlags("check", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&fix, "fix", false, "repair what can be repaired: record missing checksums, delete orphan objects, recompute quota counters")
	})
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cfgPath, env)
	if err != nil {
		return err
	}
	st, blobs, err := prepare(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := integrity.Check(ctx, st, blobs, integrity.Options{Fix: fix, OrphanAge: time.Duration(cfg.Blob.UploadURLTTL),
		TempAge: time.Duration(cfg.Server.UploadTimeout)})
	r.Write(stdout)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if n := r.Unfixed(); n > 0 {
		hint := ""
		if !fix {
			hint = " (run with -fix to repair what can be repaired)"
		}
		return fmt.Errorf("check: %d problem(s) found%s", n, hint)
	}
	return nil
}
