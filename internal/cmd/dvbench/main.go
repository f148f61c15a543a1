// Command dvbench seeds a DocuVault database with many documents of realistic text and
// measures it. Without -binary it times the store's hot paths, each beside a raw SQL
// baseline; with -binary it starts that docuvault binary on the database and measures it
// over HTTP as its users would, each figure beside a baseline from the same run:
//
//	go run ./internal/cmd/dvbench -driver sqlite -dsn /tmp/bench.db -docs 1000000
//	go run ./internal/cmd/dvbench -binary ./docuvault -driver sqlite -dsn /tmp/bench.db -reuse
//
// Without -reuse the database must be new. The table goes to stdout, progress to stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docuvault/docuvault/internal/loadgen"
	"github.com/docuvault/docuvault/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the command line.
type config struct {
	driver, dsn, binary string
	docs, users, runs   int
	reuse, keep         bool
	big                 int64
	bin                 loadgen.BinaryOptions
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flag.NewFlagSet("dvbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.driver, "driver", "sqlite", "sqlite or postgres")
	fs.StringVar(&c.dsn, "dsn", "", "database file or URL (required)")
	fs.IntVar(&c.docs, "docs", 100000, "documents to seed")
	fs.IntVar(&c.users, "users", 10, "users to spread them over (the first holds a tenth)")
	fs.IntVar(&c.runs, "runs", 200, "runs of each latency measurement")
	fs.BoolVar(&c.reuse, "reuse", false, "measure the documents an earlier run seeded instead of seeding")
	fs.StringVar(&c.binary, "binary", "", "a docuvault binary to measure over HTTP instead of the store")
	big := fs.String("big", "1GiB", "with -binary: size of the big local upload (B, KiB, MiB, GiB)")
	fs.DurationVar(&c.bin.Idle, "idle", 10*time.Second, "with -binary: idle time before each RSS reading")
	fs.DurationVar(&c.bin.Duration, "duration", 10*time.Second, "with -binary: time of each side of a rate figure")
	fs.IntVar(&c.bin.Classify, "classify", 500, "with -binary: documents uploaded for the classification figure")
	fs.IntVar(&c.bin.Clients, "clients", 64, "with -binary: concurrent clients of the upload-cycle figure")
	fs.IntVar(&c.bin.Writers, "writers", 16, "with -binary: concurrent writers")
	fs.IntVar(&c.bin.Starts, "starts", 5, "with -binary: cold starts (the median is shown)")
	fs.BoolVar(&c.keep, "keep", false, "with -binary: leave the documents the run uploaded in the database")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	if c.big, err = parseSize(*big); err != nil || c.big < 8 {
		fmt.Fprintf(stderr, "dvbench: -big %q: want a size such as 1GiB or 4MiB\n", *big)
		return 2
	}
	if c.dsn == "" || c.runs < 1 || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if err := measure(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "dvbench:", err)
		return 1
	}
	return 0
}

func measure(ctx context.Context, c config, stdout, stderr io.Writer) error {
	st, err := store.Open(ctx, c.driver, c.dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.MigrateUp(ctx); err != nil {
		return err
	}
	var corpus loadgen.Corpus
	docs, users := c.docs, c.users
	if c.reuse {
		corpus, err = loadgen.Existing(ctx, st)
		users = len(corpus.Users)
		if err == nil {
			err = st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM documents`).Scan(&docs)
		}
	} else {
		t := time.Now()
		corpus, err = loadgen.Seed(ctx, st, loadgen.Options{Documents: docs, Users: users, Seed: 1, Progress: stderr})
		fmt.Fprintf(stderr, "seeded %d documents in %v\n", docs, time.Since(t).Round(time.Second))
	}
	if err != nil {
		return err
	}
	var bigUser int
	if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM documents WHERE user_id = $1`, corpus.Users[0].ID).Scan(&bigUser); err != nil {
		return err
	}
	if c.binary == "" {
		figs, err := loadgen.Measure(ctx, st, corpus, c.runs)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s, %d documents over %d users (the first holds %d), %d runs each\n\n", c.driver, docs, users, bigUser, c.runs)
		loadgen.Print(stdout, figs)
		return nil
	}
	if err := loadgen.SetBenchPassword(ctx, st, corpus.Users[0].ID); err != nil {
		return err
	}
	st.Close() // the binary is the database's only user while it is measured
	work, err := os.MkdirTemp("", "dvbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	o := c.bin
	o.Binary, o.Driver, o.DSN, o.Corpus, o.Runs, o.Big, o.Keep = c.binary, c.driver, c.dsn, corpus, c.runs, c.big, c.keep
	o.WorkDir, o.Progress = work, stderr
	if o.Binary, err = filepath.Abs(o.Binary); err != nil {
		return err
	}
	rows, err := loadgen.MeasureBinary(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s binary %s on %s, %d documents over %d users (the signed-in user holds %d); %d runs of each latency, %v of each rate\n\n",
		filepath.Base(o.Binary), o.Binary, c.driver, docs, users, bigUser, c.runs, o.Duration)
	loadgen.PrintRows(stdout, rows)
	return nil
}

// parseSize reads 1GiB, 4MiB, 512KiB or a number of bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
