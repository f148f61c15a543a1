package loadgen

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// BenchPassword is the password SetBenchPassword gives the signed-in user.
const BenchPassword = "dvbench sign-in passphrase"

// SetBenchPassword lets userID sign in over HTTP with BenchPassword: no change forced, no
// second factor asked (a seeded user has none).
func SetBenchPassword(ctx context.Context, st *store.Store, userID string) error {
	hash, err := server.HashPassword(BenchPassword, server.DefaultPasswordParams)
	if err != nil {
		return err
	}
	if _, err := st.SetPassword(ctx, userID, hash, false); err != nil {
		return fmt.Errorf("loadgen: bench password: %w", err)
	}
	return nil
}

// BinaryOptions say what MeasureBinary measures and how long.
type BinaryOptions struct {
	Binary      string        // the docuvault executable
	Driver, DSN string        // the seeded database
	Corpus      Corpus        // its query words; Users[0] signs in (after SetBenchPassword)
	Runs        int           // timed runs of each latency figure
	Big         int64         // bytes of the big local upload
	Idle        time.Duration // before each idle RSS reading
	Duration    time.Duration // of each side of a rate figure
	Classify    int           // documents uploaded for the classification figure
	Clients     int           // concurrent clients of the upload-cycle figure (64)
	Writers     int           // concurrent writers (16)
	Starts      int           // cold starts, of which the median is taken
	WorkDir     string        // for data dirs, logs and copies; the caller removes it
	Keep        bool          // leave the documents the run uploaded
	Progress    io.Writer
}

// bench is one MeasureBinary run.
type bench struct {
	o      BinaryOptions
	failed atomic.Int64 // 5xx and unanswered requests, every step
	seq    atomic.Int64 // makes every uploaded body unique (duplicates are refused)
	rows   []Row
}

func (b *bench) logf(format string, args ...any) {
	if b.o.Progress != nil {
		fmt.Fprintf(b.o.Progress, "dvbench: "+format+"\n", args...)
	}
}

// env configures a binary: the database, a data dir of its own (local blob folder), the
// local classifier, room for the measured uploads, logs at warn.
func (b *bench) env(driver, dsn, dataDir string) map[string]string {
	return map[string]string{
		"DOCUVAULT_SERVER_DATA_DIR":              dataDir,
		"DOCUVAULT_SERVER_LOG_LEVEL":             "warn",
		"DOCUVAULT_DATABASE_DRIVER":              driver,
		"DOCUVAULT_DATABASE_DSN":                 dsn,
		"DOCUVAULT_BLOB_BACKEND":                 "local",
		"DOCUVAULT_BLOB_LOCAL_DIR":               filepath.Join(dataDir, "blobs"),
		"DOCUVAULT_CLASSIFY_DEFAULT_PROVIDER":    "local",
		"DOCUVAULT_OCR_ENABLED":                  "off",
		"DOCUVAULT_QUOTA_MAX_UPLOAD_BYTES":       strconv.FormatInt(max(512<<20, b.o.Big+1), 10),
		"DOCUVAULT_QUOTA_MAX_CONCURRENT_UPLOADS": strconv.Itoa(2 * max(b.o.Clients, b.o.Writers, 4)),
	}
}

// MeasureBinary starts the binary on the seeded database and measures it over HTTP as its
// users would (lists, every search class, uploads alone and 64 at once, classification,
// concurrent writers, a big upload, memory), then a second binary on an empty database for
// the writers' baseline, then cold starts and the file's size. It returns the table's rows.
func MeasureBinary(ctx context.Context, o BinaryOptions) ([]Row, error) {
	b := &bench{o: o}
	if err := b.loaded(ctx); err != nil {
		return nil, err
	}
	if err := b.footprint(ctx); err != nil {
		return nil, err
	}
	b.rows = append(b.rows, Row{Figure: "failed requests (5xx or unanswered), all steps", Value: strconv.FormatInt(b.failed.Load(), 10),
		Baseline: "—", Num: float64(b.failed.Load()), Ratio: math.NaN(), Goal: "0", Met: met(b.failed.Load() == 0)})
	return b.rows, nil
}

// loaded measures the binary on the seeded database.
func (b *bench) loaded(ctx context.Context) error {
	dir := filepath.Join(b.o.WorkDir, "loaded")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b.logf("starting %s on the %s database", b.o.Binary, b.o.Driver)
	p, took, err := StartBinary(ctx, b.o.Binary, filepath.Join(dir, "log"), b.env(b.o.Driver, b.o.DSN, dir), 5*time.Minute)
	if err != nil {
		return err
	}
	b.logf("ready in %v; idle for %v", took.Round(time.Millisecond), b.o.Idle)
	stopped := false
	defer func() {
		if !stopped {
			_ = p.Stop()
		}
	}()
	if err := sleep(ctx, b.o.Idle); err != nil {
		return err
	}
	idle, err := MemoryOf(p.PID())
	if err != nil {
		return err
	}
	c, err := signIn(ctx, p.URL, b.o.Corpus.Users[0].Username, BenchPassword, &b.failed)
	if err != nil {
		return err
	}
	var own []string // the documents this run uploads, deleted at the end
	if err := b.reads(ctx, c); err != nil {
		return err
	}
	b.logf("1,000 requests, then idle for %v", b.o.Idle)
	if err := b.thousand(ctx, c); err != nil {
		return err
	}
	if err := sleep(ctx, b.o.Idle); err != nil {
		return err
	}
	busy, err := MemoryOf(p.PID())
	if err != nil {
		return err
	}
	b.memoryRows(idle, busy)
	if own, err = b.uploads(ctx, c, own); err != nil {
		return err
	}
	if own, err = b.classification(ctx, c, own); err != nil {
		return err
	}
	loadedRate, loadedFails, own, err := b.writers(ctx, c, own, "loaded")
	if err != nil {
		return err
	}
	emptyRate, emptyFails, err := b.emptyWriters(ctx)
	if err != nil {
		return err
	}
	b.rows = append(b.rows, Row{Figure: fmt.Sprintf("%d concurrent writers (renames), loaded database vs an empty one", b.o.Writers),
		Value:    fmt.Sprintf("%.1f writes/s, %d failed", loadedRate, loadedFails),
		Baseline: fmt.Sprintf("empty database: %.1f writes/s, %d failed", emptyRate, emptyFails),
		Num:      loadedRate, Base: emptyRate, Ratio: loadedRate / emptyRate,
		Goal: "≥ 0.8×, 0 failed", Met: met(loadedRate >= 0.8*emptyRate && loadedFails+emptyFails == 0)})
	if own, err = b.cycles(ctx, c, own); err != nil {
		return err
	}
	if err := b.bigUpload(ctx, c, dir); err != nil {
		return err
	}
	if !b.o.Keep {
		b.logf("deleting the %d documents this run uploaded", len(own))
		if err := b.deleteAll(ctx, c, own); err != nil {
			return err
		}
	}
	stopped = true
	if err := p.Stop(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
