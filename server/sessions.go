package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// sessionless are the routes that never read or write a session: health, metrics and the
// API description are public, blob uploads carry their own signed token, and the UI's
// files are the same for everyone. Skipping the session there keeps the sessions table
// out of the path of requests that anyone may send in bulk.
var sessionless = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true, "/api/openapi.json": true,
	"/api/blobs/:token": true, "/api/*": true, "/*": true, "/share": true,
}

// onSessionRoutes runs mws (session load and save, caller, CSRF) on every route but the
// sessionless ones.
func onSessionRoutes(mws ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		with := next
		for i := len(mws) - 1; i >= 0; i-- {
			with = mws[i](with)
		}
		return func(c echo.Context) error {
			if sessionless[c.Path()] {
				return next(c)
			}
			return with(c)
		}
	}
}

// loadAndSave is scs's LoadAndSave behind a latch. scs commits the session when the
// handler starts its answer and, if the commit fails, calls sessionFailed and then lets the
// handler's answer through anyway; the latch drops that answer so the client gets the 503
// alone (and a login whose session was not stored is not answered 200).
func (s *Server) loadAndSave(next http.Handler) http.Handler {
	inner := s.sessions.LoadAndSave(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(&sessionLatch{ResponseWriter: w}, r)
	})
}

// sessionFailed answers 503 when the session store fails: the database is down, or the
// request's deadline passed. A client that closed its connection (mid-body, say) cancels
// the request's context and with it the session's save: that is the client's doing, not
// the database's, so it gets a 400 and no error is logged (anyone could otherwise fill the
// error log and the 503 count by hanging up).
func (s *Server) sessionFailed(w http.ResponseWriter, r *http.Request, err error) {
	if l, ok := w.(*sessionLatch); ok {
		if l.closed {
			return
		}
		l.closed = true
		w = l.ResponseWriter
	}
	status, detail := http.StatusServiceUnavailable, "database unavailable"
	switch ctxErr := r.Context().Err(); {
	case errors.Is(ctxErr, context.DeadlineExceeded):
		detail = deadlineDetail(s.requestTimeout(r))
		s.log.Error("session store failed", "path", r.URL.Path, "err", err)
	case errors.Is(ctxErr, context.Canceled) && errors.Is(err, context.Canceled):
		status, detail = http.StatusBadRequest, clientGoneDetail
		s.log.Info("client gone before its session was saved", "path", r.URL.Path)
	default:
		s.log.Error("session store failed", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

// sessionLatch passes writes through until sessionFailed has answered.
type sessionLatch struct {
	http.ResponseWriter
	closed bool
}

func (l *sessionLatch) WriteHeader(code int) {
	if !l.closed {
		l.ResponseWriter.WriteHeader(code)
	}
}

func (l *sessionLatch) Write(b []byte) (int, error) {
	if l.closed {
		return len(b), nil
	}
	return l.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (downloads flush through it).
func (l *sessionLatch) Unwrap() http.ResponseWriter { return l.ResponseWriter }
