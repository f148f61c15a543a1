package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// binary is the docuvault binary under measurement, built once (CGO_ENABLED=0, as released).
func binary(t *testing.T) string {
	t.Helper()
	return testenv.Binary(t, "github.com/docuvault/docuvault")
}

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBinaries()
	os.Exit(code)
}

// figures are the rows every -binary table holds, by the start of their name.
var figures = []string{
	"list, first page of 50", "list, page 4 by cursor",
	"search, a rare word", "search, two words", "search, a common word (the)", "search, a common word, 20 pages in a row",
	"search, the start of a rare word", "search, two letters", "search, a word and the start of another",
	"idle RSS 100ms after start", "idle RSS after 1,000 requests",
	"one upload (upload-url + PUT + confirm), sequential",
	"classification, local classifier, 20 uploads",
	"16 concurrent writers (renames), loaded database vs an empty one",
	"upload cycle (3 requests) per-request rate vs an authenticated GET, 64 clients",
	"local upload of 4 MiB", "cold start to /readyz, empty data dir, median of 3", "binary size on disk",
	"failed requests (5xx or unanswered), all steps",
}

var number = regexp.MustCompile(`[0-9][0-9,]*(\.[0-9]+)?`)

// firstNumber is the first number in s, or -1.
func firstNumber(s string) float64 {
	m := number.FindString(s)
	if m == "" {
		return -1
	}
	v, _ := strconv.ParseFloat(strings.ReplaceAll(m, ",", ""), 64)
	return v
}

// TestBinarySmoke seeds 2,000 documents, measures the built binary with tiny sizes and
// waits, and checks the table: every figure, each with a measured value and baseline, no
// request failed, every document it uploaded deleted, its temporary files removed.
func TestBinarySmoke(t *testing.T) {
	bin := binary(t)
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			dsn := testenv.DSN(t, d)
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"-binary", bin, "-driver", d, "-dsn", dsn, "-docs", "2000", "-runs", "5",
				"-big", "4MiB", "-idle", "100ms", "-duration", "300ms", "-classify", "20", "-starts", "3"}, &out, &errb)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
			}
			rows := map[string][]string{}
			for _, line := range strings.Split(out.String(), "\n") {
				if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| figure ") {
					continue
				}
				cells := strings.Split(strings.Trim(line, "| "), " | ")
				if len(cells) != 5 {
					t.Fatalf("row of %d cells: %q", len(cells), line)
				}
				rows[cells[0]] = cells
			}
			if len(rows) != len(figures) {
				t.Errorf("%d rows, want %d:\n%s", len(rows), len(figures), out.String())
			}
			for _, f := range figures {
				var cells []string
				for name, c := range rows {
					if strings.HasPrefix(name, f) {
						cells = c
					}
				}
				if cells == nil {
					t.Errorf("no row %q:\n%s", f, out.String())
					continue
				}
				value, base := firstNumber(cells[1]), firstNumber(cells[2])
				if strings.HasPrefix(f, "failed requests") {
					if value != 0 {
						t.Errorf("failed requests: %q\nbinary's stderr:\n%s", cells[1], errb.String())
					}
					continue
				}
				if value <= 0 || base <= 0 || firstNumber(cells[3]) <= 0 || cells[4] == "" {
					t.Errorf("row %q lacks a measured value, baseline, ratio or goal: %q", f, cells)
				}
				if strings.Contains(cells[1], "failed") && !strings.Contains(cells[1], " 0 failed") ||
					strings.Contains(cells[2], "failed") && !strings.Contains(cells[2], " 0 failed") ||
					strings.Contains(cells[1], "not classified") && !strings.Contains(cells[1], " 0 not classified") {
					t.Errorf("row %q counts failures: %q", f, cells)
				}
			}
			st, err := store.Open(context.Background(), d, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var n int
			if err := st.DB().QueryRow(`SELECT COUNT(*) FROM documents`).Scan(&n); err != nil || n != 2000 {
				t.Errorf("%d documents after the run (%v), want the 2,000 seeded: the run's own not deleted", n, err)
			}
			left, _ := os.ReadDir(tmp)
			if len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// TestBadArguments: a wrong flag, size or missing database stops before anything is opened;
// -reuse on a database nobody seeded says so.
func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"-binary", "x"}, {"-dsn", "x.db", "-big", "lots"}, {"-dsn", "x.db", "-big", "-4MiB"}, {"-dsn", "x.db", "-runs", "0"},
		{"-dsn", "x.db", "extra"}, {"-nope"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 || out.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q", args, code, out.String())
		}
	}
	var out, errb bytes.Buffer
	dsn := filepath.Join(t.TempDir(), "empty.db")
	if code := run(context.Background(), []string{"-binary", "/nonexistent", "-dsn", dsn, "-reuse"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "no seeded users") {
		t.Errorf("-reuse on an empty database: exit %d, %s", code, errb.String())
	}
}

// TestBinaryThatDoesNotStart: a binary that exits at once is reported with its exit, and
// nothing the run made is left in the temporary folder.
func TestBinaryThatDoesNotStart(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out, errb bytes.Buffer
	dsn := filepath.Join(t.TempDir(), "x.db")
	code := run(context.Background(), []string{"-binary", "/bin/false", "-dsn", dsn, "-docs", "20"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "exited before ready") || out.Len() != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out.String(), errb.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
