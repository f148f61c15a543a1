// Command dvbench seeds a DocuVault database with many documents and prints how long the
// store's hot paths take on it, each beside a raw SQL baseline:
//
//	go run ./internal/cmd/dvbench -driver sqlite -dsn /tmp/bench.db -docs 1000000
//	go run ./internal/cmd/dvbench -driver postgres -dsn postgres://… -docs 1000000
//
// The database must be new (or hold only an earlier run's data with -seed=false).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/docuvault/docuvault/internal/loadgen"
	"github.com/docuvault/docuvault/store"
)

func main() {
	driver := flag.String("driver", "sqlite", "sqlite or postgres")
	dsn := flag.String("dsn", "", "database file or URL (required)")
	docs := flag.Int("docs", 100000, "documents to seed")
	users := flag.Int("users", 10, "users to spread them over (the first holds a tenth)")
	runs := flag.Int("runs", 200, "runs of each measurement")
	reuse := flag.Bool("reuse", false, "measure the documents an earlier run seeded instead of seeding")
	flag.Parse()
	if *dsn == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*driver, *dsn, *docs, *users, *runs, *reuse); err != nil {
		fmt.Fprintln(os.Stderr, "dvbench:", err)
		os.Exit(1)
	}
}

func run(driver, dsn string, docs, users, runs int, reuse bool) error {
	ctx := context.Background()
	st, err := store.Open(ctx, driver, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.MigrateUp(ctx); err != nil {
		return err
	}
	var c loadgen.Corpus
	if reuse {
		c, err = loadgen.Existing(ctx, st)
		users = len(c.Users)
		_ = st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM documents`).Scan(&docs)
	} else {
		t := time.Now()
		c, err = loadgen.Seed(ctx, st, loadgen.Options{Documents: docs, Users: users, Seed: 1, Progress: os.Stderr})
		fmt.Fprintf(os.Stderr, "seeded %d documents in %v\n", docs, time.Since(t).Round(time.Second))
	}
	if err != nil {
		return err
	}
	figs, err := loadgen.Measure(ctx, st, c, runs)
	if err != nil {
		return err
	}
	fmt.Printf("%s, %d documents over %d users (the first holds %d), %d runs each\n\n", driver, docs, users, docs/10, runs)
	loadgen.Print(os.Stdout, figs)
	return nil
}
