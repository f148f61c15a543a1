package server

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// requestDeadline gives every request a context deadline, and answers 503 when it passes
// even if the handler is stuck in a call that ignores its context (a frozen database or
// blob store): the handler runs in its own goroutine behind a writer that refuses writes
// once the deadline has answered for it.
func (s *Server) requestDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := s.requestTimeout(r)
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		gw := &guardedWriter{w: w, header: make(http.Header)}
		done := make(chan struct{})
		panicked := make(chan any, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					panicked <- p
				}
				close(done)
			}()
			next.ServeHTTP(gw, r.WithContext(ctx))
		}()
		ended := func() {
			select {
			case p := <-panicked:
				panic(p)
			default:
			}
			gw.finish()
		}
		select {
		case <-done:
			ended()
			return
		case <-ctx.Done():
		}
		if r.Context().Err() != nil {
			// The connection ended (the client left, or its body missed the read deadline):
			// the handler's context is done too, so let it give its own answer (a 408 for a
			// slow body); never an implicit empty 200.
			select {
			case <-done:
				ended()
			case <-time.After(time.Second):
				gw.stop()
				panic(http.ErrAbortHandler)
			}
			return
		}
		s.log.Warn("request deadline passed", "method", r.Method, "path", r.URL.Path, "deadline", d.String())
		if gw.timeout(d) {
			return
		}
		// Part of the answer is out (a download): the handler's context is done, so it
		// should stop at once; if it does not, cut the connection so the client sees a
		// truncated response, not a complete one.
		select {
		case <-done:
			ended()
		case <-time.After(time.Second):
			gw.stop()
			panic(http.ErrAbortHandler)
		}
	})
}

// requestTimeout is the deadline of r: long for documents, short for the rest.
func (s *Server) requestTimeout(r *http.Request) time.Duration {
	if streaming(r) {
		return s.opts.Timeouts.Upload
	}
	return s.opts.Timeouts.Request
}

// deadlineDetail is the 503 detail of a request that passed its deadline d.
func deadlineDetail(d time.Duration) string {
	return "the request did not finish within its deadline (" + d.String() + "): a dependency is slow or unavailable"
}

// guardedWriter passes a handler's answer through until the deadline answers instead; from
// then on it swallows the handler's writes. The handler gets its own header map, copied out
// when it writes the status, so a late handler never touches the real response.
type guardedWriter struct {
	mu       sync.Mutex
	w        http.ResponseWriter
	header   http.Header
	wrote    bool
	finished bool // the deadline answered, or the handler's goroutine ended
}

func (g *guardedWriter) Header() http.Header { return g.header }

func (g *guardedWriter) WriteHeader(code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writeHeaderLocked(code)
}

func (g *guardedWriter) writeHeaderLocked(code int) {
	if g.finished || g.wrote {
		return
	}
	g.wrote = true
	dst := g.w.Header()
	for k, v := range g.header {
		dst[k] = v
	}
	g.w.WriteHeader(code)
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished {
		return 0, http.ErrHandlerTimeout
	}
	g.writeHeaderLocked(http.StatusOK)
	return g.w.Write(p)
}

// Flush sends what is buffered (downloads stream through it).
func (g *guardedWriter) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished {
		return
	}
	g.writeHeaderLocked(http.StatusOK)
	if f, ok := g.w.(http.Flusher); ok {
		f.Flush()
	}
}

// finish ends the handler's turn after it returned; a handler that wrote nothing gets its
// headers out with the implicit 200.
func (g *guardedWriter) finish() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.wrote {
		g.writeHeaderLocked(http.StatusOK)
	}
	g.finished = true
}

// stop ends the handler's turn without answering.
func (g *guardedWriter) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.finished = true
}

// timeout answers 503 in the handler's place; false when the handler had already started
// its answer.
func (g *guardedWriter) timeout(d time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished {
		return true
	}
	if g.wrote {
		return false
	}
	g.finished = true
	h := g.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	g.w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(g.w, `{"detail":"`+deadlineDetail(d)+`"}`)
	return true
}
