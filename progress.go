package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a bar on a terminal and nothing elsewhere (a log file, a pipe, a test), so
// the commands' output stays plain text for scripts.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress starts a bar of total steps (-1 unknown) described by what; silent unless w
// is a terminal.
func newProgress(w io.Writer, total int64, what string) *progress {
	return startProgress(w, total, progressbar.OptionSetDescription(what))
}

// newByteProgress starts a bar of total bytes, with the rate and the time left.
func newByteProgress(w io.Writer, total int64) *progress {
	return startProgress(w, total, progressbar.OptionShowBytes(true), progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(true))
}

func startProgress(w io.Writer, total int64, opts ...progressbar.Option) *progress {
	if !isTerminal(w) {
		return &progress{}
	}
	opts = append([]progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100 * time.Millisecond)}, opts...)
	return &progress{bar: progressbar.NewOptions64(total, opts...)}
}

// isTerminal tells whether w is a terminal (then progress is drawn on it).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// shown tells whether the bar is drawn (w is a terminal).
func (p *progress) shown() bool { return p.bar != nil }

// describe sets the text beside the bar.
func (p *progress) describe(s string) {
	if p.bar != nil {
		p.bar.Describe(s)
	}
}

// reader advances the bar by the bytes read through r.
func (p *progress) reader(r io.Reader) io.Reader {
	if p.bar == nil {
		return r
	}
	return io.TeeReader(r, p.bar)
}

// set moves the bar to n.
func (p *progress) set(n int64) {
	if p.bar != nil {
		_ = p.bar.Set64(n)
	}
}

// done clears the bar.
func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
