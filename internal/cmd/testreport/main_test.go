package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goTestJSON runs `go test -json` on a scratch module holding src as its only test file.
func goTestJSON(t *testing.T, src string) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": "module example.com/scratch\n\ngo 1.22\n", "x_test.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-json", "-count=1", "-v", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, _ := cmd.Output() // a failing test exits 1; the events say what happened
	if !bytes.Contains(out, []byte(`"Action":"start"`)) {
		t.Fatalf("go test -json printed no events: %s", out)
	}
	return out
}

// TestReportGathersScatteredFailures: parallel tests interleave their lines; the summary
// holds each failing subtest's messages under its name, none of a passing test's, and the
// log keeps everything except the progress lines.
func TestReportGathersScatteredFailures(t *testing.T) {
	events := goTestJSON(t, `package scratch

import "testing"

func TestQuiet(t *testing.T) {
	t.Parallel()
	for i := 0; i < 50; i++ {
		t.Log("quiet line")
	}
}

func TestLoud(t *testing.T) {
	t.Parallel()
	t.Run("ok", func(t *testing.T) { t.Log("fine here") })
	t.Run("broken", func(t *testing.T) {
		t.Log("what went before")
		t.Fatal("the reason it failed")
	})
}
`)
	var log, summary bytes.Buffer
	failed, err := report(bytes.NewReader(events), &log, &summary)
	if err != nil || !failed {
		t.Fatalf("report: failed=%v err=%v", failed, err)
	}
	if strings.Contains(log.String(), "=== RUN") || !strings.Contains(log.String(), "--- FAIL: TestLoud/broken") ||
		strings.Count(log.String(), "quiet line") != 50 {
		t.Fatalf("log:\n%s", log.String())
	}
	s := summary.String()
	broken := strings.Index(s, "---- example.com/scratch TestLoud/broken\n")
	if broken < 0 || !strings.Contains(s[broken:], "the reason it failed") || !strings.Contains(s[broken:], "what went before") {
		t.Fatalf("summary lacks the failing subtest's lines:\n%s", s)
	}
	if strings.Contains(s, "quiet line") || strings.Contains(s, "fine here") || strings.Contains(s, "---- example.com/scratch TestLoud\n") {
		t.Fatalf("summary holds passing tests or the failing parent:\n%s", s)
	}
}

// TestReportPanicAndPass: a panic is shown (attributed to its test or to the package), and a
// passing run reports nothing and exits clean.
func TestReportPanicAndPass(t *testing.T) {
	var log, summary bytes.Buffer
	failed, err := report(bytes.NewReader(goTestJSON(t, `package scratch

import "testing"

func TestBoom(t *testing.T) { var m map[string]int; m["x"] = 1 }
`)), &log, &summary)
	if err != nil || !failed || !strings.Contains(summary.String(), "assignment to entry in nil map") {
		t.Fatalf("failed=%v err=%v summary:\n%s", failed, err, summary.String())
	}
	log.Reset()
	summary.Reset()
	failed, err = report(strings.NewReader("go: downloading nothing\n"+string(goTestJSON(t, `package scratch

import "testing"

func TestFine(t *testing.T) {}
`))), &log, &summary)
	if err != nil || failed || summary.Len() != 0 || !strings.HasPrefix(log.String(), "go: downloading nothing\n") {
		t.Fatalf("failed=%v err=%v summary=%q log:\n%s", failed, err, summary.String(), log.String())
	}
}
