package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Timeouts bound how long a request may run and how long its parts may take to arrive, so
// that neither a hung dependency nor a slow client can hold a connection for long.
type Timeouts struct {
	Request    time.Duration // deadline of every request (default 30 s)
	Upload     time.Duration // deadline and body time of streaming requests: blob PUT, one-shot upload, download (default 30 min)
	Body       time.Duration // time for a JSON request body to arrive in full (default 15 s)
	ReadHeader time.Duration // time for the request line and headers to arrive (default 10 s)
	Idle       time.Duration // how long a kept-alive connection may wait for its next request (default 2 min)
}

func (t *Timeouts) defaults() {
	for _, f := range []struct {
		v *time.Duration
		d time.Duration
	}{{&t.Request, 30 * time.Second}, {&t.Upload, 30 * time.Minute}, {&t.Body, 15 * time.Second},
		{&t.ReadHeader, 10 * time.Second}, {&t.Idle, 2 * time.Minute}} {
		if *f.v <= 0 {
			*f.v = f.d
		}
	}
}

// HTTPServer is the http.Server that serves this Server: main runs it, and tests that
// measure connection limits run the very same configuration.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.opts.Timeouts.ReadHeader,
		IdleTimeout:       s.opts.Timeouts.Idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// streaming tells the requests whose bodies or answers are documents: they get the upload
// timeout instead of the short ones. Matched on the raw path because these limits apply
// before the router runs.
func streaming(r *http.Request) bool {
	p := r.URL.Path
	switch r.Method {
	case http.MethodPut:
		return strings.HasPrefix(p, "/api/blobs/")
	case http.MethodPost:
		return p == "/api/documents"
	case http.MethodGet:
		return strings.HasPrefix(p, "/api/documents/") && strings.HasSuffix(p, "/download") ||
			p == "/api/documents/zip" || p == "/api/export"
	}
	return false
}

// bodyDeadline gives a request body a time by which it must have arrived in full (short for
// JSON, long for documents), so a client that trickles its body loses the connection instead
// of holding it. Once the body is read the deadline is lifted: net/http's background read
// would otherwise cancel a slow handler's context when it passes.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		d := s.opts.Timeouts.Body
		if streaming(r) {
			d = s.opts.Timeouts.Upload
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			s.log.Warn("read deadline not set", "path", r.URL.Path, "err", err)
		}
		r.Body = &liftOnEOF{ReadCloser: r.Body, lift: func() { _ = rc.SetReadDeadline(time.Time{}) }}
		next.ServeHTTP(w, r)
	})
}

// liftOnEOF calls lift once the body has been read to its end.
type liftOnEOF struct {
	io.ReadCloser
	lift func()
	once sync.Once
}

func (b *liftOnEOF) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var ne net.Error
	switch {
	case err == io.EOF:
		b.once.Do(b.lift)
	case errors.As(err, &ne) && ne.Timeout():
		err = &slowBodyError{err: err}
	}
	return n, err
}

// slowBodyError is a request body that passed its read deadline: the client's fault (408),
// not a dependency's.
type slowBodyError struct{ err error }

func (e *slowBodyError) Error() string { return "request body not received in time: " + e.err.Error() }
func (e *slowBodyError) Unwrap() error { return e.err }
