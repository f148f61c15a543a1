package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

// apiError is an error with the status and detail a client sees.
type apiError struct {
	status int
	detail any
}

func (e *apiError) Error() string { return http.StatusText(e.status) }

func fail(status int, detail any) error { return &apiError{status: status, detail: detail} }

// unavailable marks a failure of a dependency (database, blob store): 503, cause logged.
type unavailable struct {
	dep string
	err error
}

func (u *unavailable) Error() string { return u.dep + " unavailable: " + u.err.Error() }
func (u *unavailable) Unwrap() error { return u.err }

// blobDown wraps a blob store failure.
func blobDown(err error) error { return &unavailable{dep: "blob store", err: err} }

// errorHandler writes every error as {"detail": …}: sentinel errors map to their status in
// this one place; 5xx causes are logged, never sent.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, detail := s.classify(err)
	if status >= 500 && errors.Is(c.Request().Context().Err(), context.DeadlineExceeded) {
		// However the driver reported it, a failure past the deadline is the deadline's.
		status, detail = http.StatusServiceUnavailable, deadlineDetail(s.requestTimeout(c.Request()))
	} else if status >= 500 && errors.Is(c.Request().Context().Err(), context.Canceled) && errors.Is(err, context.Canceled) {
		// The client closed its connection, which cancelled the query under way: the
		// client's doing, not a failure of ours (and not worth an error in the log).
		status, detail = http.StatusBadRequest, clientGoneDetail
	}
	if status == http.StatusRequestEntityTooLarge && strings.HasPrefix(c.Path(), "/api/documents") {
		s.metrics.quotaRejections.Inc()
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "status", status,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	body := map[string]any{"detail": detail}
	if dup := (*store.DuplicateError)(nil); errors.As(err, &dup) {
		body["existing_id"] = dup.ExistingID // the document the client may open instead
	}
	_ = c.JSON(status, body)
}

func (s *Server) classify(err error) (int, any) {
	var ae *apiError
	var he *echo.HTTPError
	var qe *store.QuotaError
	var un *unavailable
	var mbe *http.MaxBytesError
	var ie *store.InvalidError
	var slow *slowBodyError
	var dup *store.DuplicateError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.detail
	case errors.As(err, &qe):
		d := quotaDetail(qe.UsedBytes, qe.LimitBytes, qe.RejectedBytes)
		if qe.PendingBytes > 0 {
			d["pending_bytes"] = qe.PendingBytes // reserved by unconfirmed uploads
		}
		return http.StatusRequestEntityTooLarge, d
	case errors.As(err, &dup):
		return http.StatusConflict, "you already have a document with the same bytes"
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "request body too large"
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, "already exists"
	case errors.Is(err, store.ErrUnfinished):
		return http.StatusConflict, "the upload of this document is not finished"
	case errors.Is(err, store.ErrCredentialsChanged):
		return http.StatusUnauthorized, "credentials changed while the request was in flight; sign in again"
	case errors.Is(err, store.ErrLastAdmin):
		return http.StatusConflict, "the last active admin cannot be demoted, deactivated or deleted"
	case errors.As(err, &ie):
		return http.StatusUnprocessableEntity, ie.Reason
	case errors.As(err, &slow):
		return http.StatusRequestTimeout, "request body not received in time"
	case errors.As(err, &un):
		return http.StatusServiceUnavailable, un.dep + " unavailable"
	case errors.As(err, &he):
		msg := he.Message
		if he.Code == http.StatusNotFound || he.Code == http.StatusMethodNotAllowed {
			msg = strings.ToLower(http.StatusText(he.Code))
		}
		return he.Code, msg
	case store.IsUnavailable(err):
		return http.StatusServiceUnavailable, "database unavailable"
	case store.IsConflict(err):
		return http.StatusConflict, "already exists"
	case store.IsBadInput(err):
		return http.StatusBadRequest, "text must be valid UTF-8 without NUL bytes"
	}
	return http.StatusInternalServerError, "internal error"
}

// clientBody reads a request body for a blob store and keeps the error the body itself gave,
// so a failed upload is told apart by its source: the client's body (4xx) or the store (503),
// whatever the store does with the error.
type clientBody struct {
	r   io.Reader
	err error
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}

func quotaDetail(used, limit, rejected int64) map[string]int64 {
	return map[string]int64{"used_bytes": used, "limit_bytes": limit, "rejected_bytes": rejected}
}

// clientGoneDetail answers a request whose client closed the connection before it ended.
const clientGoneDetail = "the client closed the connection before the request was complete"

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 1 << 20

// decodeJSON reads one JSON object into v: 413 past 1 MiB, 400 when malformed, when it
// carries a field v does not have, or when it is not UTF-8 or a string holds a NUL byte
// (encoding/json would quietly turn invalid UTF-8 into U+FFFD; PostgreSQL refuses NUL).
func decodeJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxJSONBody))
	var mbe *http.MaxBytesError
	var slow *slowBodyError
	switch {
	case errors.As(err, &mbe):
		return fail(http.StatusRequestEntityTooLarge, "request body larger than 1 MiB")
	case errors.As(err, &slow):
		return fail(http.StatusRequestTimeout, "request body not received in time")
	case err != nil:
		return fail(http.StatusBadRequest, "request body could not be read")
	case !utf8.Valid(body):
		return fail(http.StatusBadRequest, "request body must be valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return fail(http.StatusBadRequest, "request body must be a JSON object")
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return fail(http.StatusBadRequest, strings.TrimPrefix(err.Error(), "json: "))
		default:
			return fail(http.StatusBadRequest, "malformed JSON: "+err.Error())
		}
	}
	if dec.More() {
		return fail(http.StatusBadRequest, "request body must hold one JSON object")
	}
	if f := invalidField(v); f != "" {
		return fail(http.StatusBadRequest, f+badText)
	}
	return nil
}
