package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/export"
)

// maxZipIDs bounds one bulk download: the ids travel in the query string.
const maxZipIDs = 500

// exportAll streams all of the caller's documents and a manifest as one zip ("Download all
// my documents"). ?text=true adds each document's extracted text to the manifest.
func (s *Server) exportAll(c echo.Context) error {
	u := caller(c)
	withText, err := boolQuery(c, "text")
	if err != nil {
		return err
	}
	name := "docuvault-export-" + s.now().UTC().Format("2006-01-02") + ".zip"
	w := &lazyZipResponse{c: c, filename: name}
	_, err = export.All(c.Request().Context(), w, s.store, s.blobs, u.ID, export.Options{Username: u.Username, WithText: withText, Now: s.now})
	return s.endZip(c, err)
}

// zipDocuments streams the chosen documents (?ids=a,b or ids repeated) as one zip. Every id
// must be one of the caller's finished documents, checked before a byte is sent: any other
// id is a 404 for the whole request.
func (s *Server) zipDocuments(c echo.Context) error {
	var ids []string
	for _, v := range c.QueryParams()["ids"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return fail(http.StatusBadRequest, "ids: name at least one document")
	}
	if len(ids) > maxZipIDs {
		return fail(http.StatusBadRequest, "ids: at most 500 documents per download")
	}
	ctx := c.Request().Context()
	docs, err := s.store.DocumentsForZip(ctx, caller(c).ID, ids)
	if err != nil {
		return err
	}
	z := export.NewZip(&lazyZipResponse{c: c, filename: "docuvault-documents.zip"}, s.blobs)
	for _, d := range docs {
		e, err := z.Add(ctx, d)
		if err != nil {
			return s.endZip(c, err)
		}
		if e.Missing {
			s.log.Warn("document left out of a zip: its object is missing", "document_id", d.ID)
		}
	}
	return s.endZip(c, z.Close())
}

// endZip finishes a streamed zip: before the first byte an error is an ordinary answer;
// after it, the connection is cut so the client sees a broken download, never a
// complete-looking zip with files left out.
func (s *Server) endZip(c echo.Context, err error) error {
	if err == nil || !c.Response().Committed {
		var be *export.BlobError
		if errors.As(err, &be) && c.Request().Context().Err() == nil {
			err = blobDown(err)
		}
		return err
	}
	s.log.Error("zip download cut short", "path", c.Path(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
	panic(http.ErrAbortHandler)
}

// lazyZipResponse sets the zip's headers at its first byte, so a failure before that can
// still be answered with a JSON error.
type lazyZipResponse struct {
	c        echo.Context
	filename string
	started  bool
}

func (l *lazyZipResponse) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.c.Response().Header()
		h.Set(echo.HeaderContentType, "application/zip")
		h.Set(echo.HeaderContentDisposition, contentDisposition(l.filename))
		h.Set("Cache-Control", "private, no-store")
		l.c.Response().WriteHeader(http.StatusOK)
	}
	return l.c.Response().Write(p)
}

// boolQuery reads an optional true/false query parameter.
func boolQuery(c echo.Context, name string) (bool, error) {
	switch c.QueryParam(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, fail(http.StatusBadRequest, name+": true or false")
}
