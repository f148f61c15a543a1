package export_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/export"
	"github.com/docuvault/docuvault/store"
)

// BenchmarkExportMemory exports a large store (DOCUVAULT_BENCH_EXPORT_GIB, default 3 GiB of
// sparse 64 MiB files) in a child process and reports its peak RSS beside a child that only
// io.Copies the same files to nowhere: the export's memory must not grow with the bytes.
func BenchmarkExportMemory(b *testing.B) {
	gib := 3.0
	if v := os.Getenv("DOCUVAULT_BENCH_EXPORT_GIB"); v != "" {
		gib, _ = strconv.ParseFloat(v, 64)
	}
	dir := b.TempDir()
	const fileSize = 64 << 20
	n := int(gib * (1 << 30) / fileSize)
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite", "file:"+filepath.Join(dir, "db.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	if err := st.MigrateUp(ctx); err != nil {
		b.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.NewUser{Username: "bench", PasswordHash: "x", Role: store.RoleUser, LimitBytes: 1 << 50})
	if err != nil {
		b.Fatal(err)
	}
	blobDir := filepath.Join(dir, "blobs")
	for i := 0; i < n; i++ {
		d, err := st.CreatePending(ctx, u.ID, fmt.Sprintf("scan %d.pdf", i%7), "application/pdf", fileSize)
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(blobDir, filepath.FromSlash(d.ObjectKey))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			b.Fatal(err)
		}
		if err := os.Truncate(p, fileSize); err != nil { // sparse: no disk used
			b.Fatal(err)
		}
		if _, err := st.ConfirmUpload(ctx, u.ID, d.ID, fileSize, ""); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	for i := 0; i < b.N; i++ {
		for _, mode := range []string{"copy", "export"} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestExportMemoryChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "DOCUVAULT_EXPORT_CHILD="+mode, "DOCUVAULT_EXPORT_DIR="+dir, "DOCUVAULT_EXPORT_USER="+u.ID)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Run(); err != nil {
				b.Fatalf("%s child: %v\n%s", mode, err, out.String())
			}
			elapsed := time.Since(start)
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
			b.ReportMetric(float64(rss)/1024, mode+"-peak-RSS-MiB")
			b.ReportMetric(float64(int64(n)*fileSize)/(1<<20)/elapsed.Seconds(), mode+"-MiB/s")
			b.Logf("%s of %d × 64 MiB (%.1f GiB): peak RSS %.1f MiB, %s; %s", mode, n, float64(n)/16, float64(rss)/1024,
				elapsed.Round(time.Millisecond), strings.TrimSpace(lastLine(out.String())))
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "bytes:") {
			return lines[i]
		}
	}
	return ""
}

// TestExportMemoryChild is the benchmark's child process; it does nothing in a normal run.
func TestExportMemoryChild(t *testing.T) {
	mode := os.Getenv("DOCUVAULT_EXPORT_CHILD")
	if mode == "" {
		t.Skip("runs only as BenchmarkExportMemory's child")
	}
	dir, userID := os.Getenv("DOCUVAULT_EXPORT_DIR"), os.Getenv("DOCUVAULT_EXPORT_USER")
	blobs, err := blob.NewLocal(filepath.Join(dir, "blobs"), []byte("bench-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cw := &countingWriter{}
	switch mode {
	case "copy":
		err = filepath.Walk(filepath.Join(dir, "blobs", "u"), func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(cw, f)
			return err
		})
	case "export":
		st, oerr := store.Open(ctx, "sqlite", "file:"+filepath.Join(dir, "db.sqlite"))
		if oerr != nil {
			t.Fatal(oerr)
		}
		defer st.Close()
		var stats export.Stats
		stats, err = export.All(ctx, cw, st, blobs, userID, export.Options{})
		if err == nil && stats.Missing > 0 {
			err = fmt.Errorf("%d missing", stats.Missing)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("bytes: %d written\n", cw.n)
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
