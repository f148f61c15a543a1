package loadgen

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Row is one line of the binary's table: a figure beside a baseline measured in the same
// run, their ratio, and the goal the figure is held to.
type Row struct {
	Figure   string
	Value    string  // as printed
	Baseline string  // as printed, with what it is
	Num      float64 // the value as a number (for ratio and tests); > 0 when measured
	Base     float64 // the baseline as a number
	Ratio    float64 // value over baseline; NaN when there is none
	Goal     string
	Met      *bool // nil: the goal is not a yes/no on this figure
}

// PrintRows writes rows as a Markdown table: figure, value, baseline, ratio, goal (✓ or ✗
// when the goal can be checked).
func PrintRows(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| figure | value | baseline | ratio | goal |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rows {
		goal := r.Goal
		if r.Met != nil {
			goal += map[bool]string{true: " ✓", false: " ✗"}[*r.Met]
		}
		ratio := "—"
		if !math.IsNaN(r.Ratio) {
			ratio = fmt.Sprintf("%.2f×", r.Ratio)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", esc(r.Figure), esc(r.Value), esc(r.Baseline), ratio, esc(goal))
	}
}

func esc(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func met(ok bool) *bool { return &ok }
