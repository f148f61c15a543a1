// Command testreport reads `go test -json` on standard input, prints it as `go test -v` does
// (without the === RUN/PAUSE/CONT/NAME lines), and ends with what each failing test printed,
// gathered in one place: with parallel tests a failure's messages are otherwise scattered
// through the log, far from its "--- FAIL" line. It exits 1 when a test or package failed.
//
//	go test -json ./... 2>&1 | testreport -summary failures.txt
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	summary := flag.String("summary", "", "write the failures' summary to this file instead of after the log")
	flag.Parse()
	var out io.Writer = os.Stdout
	if *summary != "" {
		f, err := os.Create(*summary)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
		defer f.Close()
		out = f
	}
	failed, err := report(os.Stdin, os.Stdout, out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output
	Test       string
	Output     string
}

// keepLines is how many of its last lines a test's output keeps for the summary.
const keepLines = 300

// output is one test's (or one package's own) lines, the last keepLines of them.
type output struct {
	lines   []string
	dropped int
}

func (o *output) add(line string) {
	if len(o.lines) == keepLines {
		o.lines = o.lines[1:]
		o.dropped++
	}
	o.lines = append(o.lines, line)
}

type key struct{ pkg, test string }

// report copies the events' output to log and then, when something failed, writes to
// summary each failing test's own lines (the innermost failing tests only: a parent fails
// with its subtests) and each failing package's lines outside any test (a panic, a build
// error, a timeout). Lines that are not JSON (go vet, the go command) pass through to log.
func report(r io.Reader, log, summary io.Writer) (failed bool, err error) {
	outputs := map[key]*output{}
	var failedTests []key
	var failedPkgs []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(log, "%s\n", line)
			continue
		}
		switch e.Action {
		case "output", "build-output":
			if isProgress(e.Output) {
				continue
			}
			io.WriteString(log, e.Output)
			k := key{cmp.Or(e.Package, e.ImportPath), e.Test}
			o := outputs[k]
			if o == nil {
				o = &output{}
				outputs[k] = o
			}
			o.add(e.Output)
		case "fail", "build-fail":
			if e.Test != "" {
				failedTests = append(failedTests, key{e.Package, e.Test})
			} else {
				failedPkgs = append(failedPkgs, cmp.Or(e.Package, e.ImportPath))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	if len(failedTests) == 0 && len(failedPkgs) == 0 {
		return false, nil
	}
	fmt.Fprintf(summary, "\n==== what the failing tests printed (%d tests, %d packages failed)\n", len(leaves(failedTests)), len(failedPkgs))
	for _, k := range leaves(failedTests) {
		fmt.Fprintf(summary, "\n---- %s %s\n", k.pkg, k.test)
		writeOutput(summary, outputs[k])
	}
	for _, p := range failedPkgs {
		fmt.Fprintf(summary, "\n---- %s (outside its tests)\n", p)
		writeOutput(summary, outputs[key{p, ""}])
	}
	return true, nil
}

// isProgress tells the lines `go test -v` prints as tests start, pause and resume.
func isProgress(s string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// leaves keeps the failed tests none of whose subtests failed.
func leaves(failed []key) []key {
	var out []key
	for _, k := range failed {
		parent := false
		for _, o := range failed {
			if o.pkg == k.pkg && strings.HasPrefix(o.test, k.test+"/") {
				parent = true
				break
			}
		}
		if !parent {
			out = append(out, k)
		}
	}
	return out
}

func writeOutput(w io.Writer, o *output) {
	if o == nil {
		fmt.Fprintln(w, "(nothing printed)")
		return
	}
	if o.dropped > 0 {
		fmt.Fprintf(w, "(%d earlier lines left out)\n", o.dropped)
	}
	for _, l := range o.lines {
		io.WriteString(w, l)
		if !strings.HasSuffix(l, "\n") {
			io.WriteString(w, "\n")
		}
	}
}
