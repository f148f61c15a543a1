package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/docuvault/docuvault/store"
)

// memoryRows are the idle RSS figures, each beside the part of it that is the mapped binary
// (RssFile): the floor no heap tuning lowers.
func (b *bench) memoryRows(idle, busy Memory) {
	const goal = 30e6
	for _, m := range []struct {
		name string
		m    Memory
	}{
		{fmt.Sprintf("idle RSS %v after start (VmRSS)", b.o.Idle), idle},
		{fmt.Sprintf("idle RSS after 1,000 requests and %v", b.o.Idle), busy},
	} {
		b.rows = append(b.rows, Row{Figure: m.name, Value: mib(m.m.RSS), Baseline: "its mapped files (RssFile) " + mib(m.m.RSSFile),
			Num: float64(m.m.RSS), Base: float64(m.m.RSSFile), Ratio: float64(m.m.RSS) / float64(max(m.m.RSSFile, 1)),
			Goal: "< 30 MB", Met: met(m.m.RSS < goal)})
	}
}

// pattern is an endless reader of constant bytes that allocates nothing, copied from a
// block as reading a cached file would be: both sides of the big upload's comparison pay
// the same for their source.
type pattern struct{ block []byte }

func newPattern() pattern {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i)
	}
	return pattern{b}
}

func (p pattern) Read(dst []byte) (int, error) {
	n := 0
	for n < len(dst) {
		n += copy(dst[n:], p.block[n%len(p.block):])
	}
	return n, nil
}

// bigRounds is how many times each side of the big upload's comparison runs, alternately:
// the disk's write-back of one step spills into the next, and a single pair swung between
// 0.6× and 1.2× on the same build.
const bigRounds = 3

// bigUpload times the upload of o.Big bytes to the local blob store (upload-url, PUT,
// confirm) beside copying the same bytes to a new file in the same folder tree as `cp`
// would, then syncing the file and its folder, as the upload does. The two alternate
// bigRounds times, each after the disk has written back everything before it (sync), and
// the medians are compared.
func (b *bench) bigUpload(ctx context.Context, c *apiClient, dir string) error {
	size := b.o.Big
	b.logf("upload of %d MiB beside cp + fsync, %d times each", size>>20, bigRounds)
	var cps, ups []time.Duration
	for round := range bigRounds {
		syscall.Sync()
		start := time.Now()
		err := copyFsync(filepath.Join(dir, "cp-baseline"), size)
		cps = append(cps, time.Since(start))
		_ = os.Remove(filepath.Join(dir, "cp-baseline"))
		if err != nil {
			return fmt.Errorf("cp baseline: %w", err)
		}
		// The upload's first bytes are unique: the same bytes twice are refused as a duplicate.
		var head [8]byte
		binary.BigEndian.PutUint64(head[:], uint64(time.Now().UnixNano()))
		body := io.MultiReader(bytes.NewReader(head[:]), io.LimitReader(newPattern(), size-8))
		syscall.Sync()
		start = time.Now()
		id, err := c.upload(ctx, fmt.Sprintf("dvbench-big-%d.bin", round), "application/octet-stream", size, body)
		ups = append(ups, time.Since(start))
		if id != "" {
			if derr := c.call(ctx, "DELETE", "/api/documents/"+id, nil, nil, http.StatusNoContent, nil); err == nil {
				err = derr
			}
		}
		if err != nil {
			return fmt.Errorf("big upload: %w", err)
		}
	}
	rate := func(d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }
	upMB, cpMB := rate(median(ups)), rate(median(cps))
	b.rows = append(b.rows, Row{Figure: fmt.Sprintf("local upload of %d MiB (upload-url + PUT + confirm), median of %d", size>>20, bigRounds),
		Value: fmt.Sprintf("%.0f MB/s", upMB), Baseline: fmt.Sprintf("cp + fsync of file and folder: %.0f MB/s", cpMB),
		Num: upMB, Base: cpMB, Ratio: upMB / cpMB, Goal: "≥ 0.9×", Met: met(upMB >= 0.9*cpMB)})
	return nil
}

// copyFsync writes size bytes to a new file at path as `cp` would, then syncs the file and
// its folder.
func copyFsync(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, io.LimitReader(newPattern(), size))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// emptyWriters runs the writers' figure on a second binary over an empty database (a new
// SQLite file, or a new PostgreSQL schema beside the seeded one) with one user.
func (b *bench) emptyWriters(ctx context.Context) (float64, int64, error) {
	dir := filepath.Join(b.o.WorkDir, "empty")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, 0, err
	}
	dsn, drop, err := emptyDatabase(ctx, b.o.Driver, b.o.DSN, dir)
	if err != nil {
		return 0, 0, fmt.Errorf("empty database: %w", err)
	}
	defer drop()
	st, err := store.Open(ctx, b.o.Driver, dsn)
	if err != nil {
		return 0, 0, err
	}
	err = st.MigrateUp(ctx)
	var u store.User
	if err == nil {
		u, err = st.CreateUser(ctx, store.NewUser{Username: "dvbench", PasswordHash: "x", Role: store.RoleUser, LimitBytes: 1 << 50})
	}
	if err == nil {
		err = SetBenchPassword(ctx, st, u.ID)
	}
	st.Close()
	if err != nil {
		return 0, 0, err
	}
	b.logf("starting a second binary on an empty database")
	p, _, err := StartBinary(ctx, b.o.Binary, filepath.Join(dir, "log"), b.env(b.o.Driver, dsn, dir), time.Minute)
	if err != nil {
		return 0, 0, err
	}
	c, err := signIn(ctx, p.URL, u.Username, BenchPassword, &b.failed)
	if err != nil {
		_ = p.Stop()
		return 0, 0, err
	}
	perSec, failed, _, err := b.writers(ctx, c, nil, "empty")
	if serr := p.Stop(); err == nil && serr != nil {
		err = fmt.Errorf("stop: %w", serr)
	}
	return perSec, failed, err
}

// emptyDatabase is the DSN of a new, empty database of driver: a file in dir for SQLite, a
// new schema on the server of dsn for PostgreSQL (drop removes it).
func emptyDatabase(ctx context.Context, driver, dsn, dir string) (string, func(), error) {
	if driver != store.Postgres {
		return filepath.Join(dir, "empty.db"), func() {}, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, err
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "dvbench_empty_" + hex.EncodeToString(r[:])
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		db.Close()
	}, nil
}

// footprint measures cold starts on empty data dirs beside `version` runs of the same
// binary, and the binary's size beside its loaded sections.
func (b *bench) footprint(ctx context.Context) error {
	b.logf("%d cold starts", b.o.Starts)
	var starts, execs []time.Duration
	for i := range b.o.Starts {
		dir := filepath.Join(b.o.WorkDir, fmt.Sprintf("cold-%d", i))
		env := map[string]string{"DOCUVAULT_SERVER_DATA_DIR": dir, "DOCUVAULT_SERVER_LOG_LEVEL": "warn"}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		p, took, err := StartBinary(ctx, b.o.Binary, filepath.Join(b.o.WorkDir, fmt.Sprintf("cold-%d.log", i)), env, time.Minute)
		if err != nil {
			return err
		}
		starts = append(starts, took)
		if err := p.Stop(); err != nil {
			return fmt.Errorf("cold start %d: stop: %w", i, err)
		}
		t := time.Now()
		if out, err := exec.CommandContext(ctx, b.o.Binary, "version").CombinedOutput(); err != nil {
			return fmt.Errorf("%s version: %w: %s", b.o.Binary, err, out)
		}
		execs = append(execs, time.Since(t))
	}
	start, ex := median(starts), median(execs)
	b.rows = append(b.rows, Row{Figure: fmt.Sprintf("cold start to /readyz, empty data dir, median of %d", b.o.Starts),
		Value: ms(start), Baseline: "`docuvault version` (exec to exit) " + ms(ex), Num: float64(start), Base: float64(ex),
		Ratio: float64(start) / float64(ex), Goal: "< 300 ms", Met: met(start < 300*time.Millisecond)})
	fi, err := os.Stat(b.o.Binary)
	if err != nil {
		return err
	}
	loaded, err := loadedSize(b.o.Binary)
	if err != nil {
		return err
	}
	b.rows = append(b.rows, Row{Figure: "binary size on disk", Value: mb(fi.Size()), Baseline: "its loaded sections (no symbols, no debug info) " + mb(loaded),
		Num: float64(fi.Size()), Base: float64(loaded), Ratio: float64(fi.Size()) / float64(loaded), Goal: "< 40 MB", Met: met(fi.Size() < 40e6)})
	return nil
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// loadedSize is the bytes of an ELF file's sections that are loaded into memory and stored
// in the file: what stays when symbols and debug information are stripped.
func loadedSize(path string) (int64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	var n int64
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS {
			n += int64(s.Size)
		}
	}
	return n, nil
}
