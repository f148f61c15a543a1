package server

import (
	"errors"
	"mime"
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/classify"
	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/store"
)

// downloadURLTTL bounds presigned download links.
const downloadURLTTL = 5 * time.Minute

func isControl(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }

// validFilename refuses (400) what could not be a plain file name.
func validFilename(name string) error {
	if err := ingest.ValidFilename(name); err != nil {
		return fail(http.StatusBadRequest, ingest.Reason(err))
	}
	return nil
}

// contentTypeFor validates a declared media type against the allow-list (empty = any):
// 400 when malformed, 415 when not accepted.
func (s *Server) contentTypeFor(declared string) (string, error) {
	ct, err := ingest.ContentType(declared, s.opts.AllowedContentTypes)
	var r *ingest.Refusal
	if errors.As(err, &r) && r.Kind == ingest.KindTypeNotAccepted {
		return "", fail(http.StatusUnsupportedMediaType, r.Message)
	}
	if err != nil {
		return "", fail(http.StatusBadRequest, ingest.Reason(err))
	}
	return ct, nil
}

func (s *Server) getDocument(c echo.Context) error {
	d, err := s.store.Document(c.Request().Context(), caller(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDocumentJSON(d))
}

var validStatus = map[string]bool{store.StatusPending: true, store.StatusUploaded: true, store.StatusClassified: true, store.StatusClassificationFailed: true}

// listDocuments pages through the caller's documents (keyset), filtered and searched.
func (s *Server) listDocuments(c echo.Context) error {
	limit, cursor, err := pageParams(c)
	if err != nil {
		return err
	}
	f := store.DocumentFilter{Status: c.QueryParam("status"), TopicID: c.QueryParam("topic"), Query: c.QueryParam("q"),
		After: cursor, Limit: limit}
	if err := listOrder(c, &f); err != nil {
		return err
	}
	if f.Status != "" && !validStatus[f.Status] {
		return fail(http.StatusBadRequest, "status must be pending, uploaded, classified or classification_failed")
	}
	if len(f.Query) > maxQueryText {
		return fail(http.StatusBadRequest, "q must be at most 500 characters")
	}
	docs, next, err := s.store.ListDocuments(c.Request().Context(), caller(c).ID, f)
	if errors.Is(err, store.ErrInvalid) {
		return fail(http.StatusBadRequest, "cursor does not belong to this query")
	}
	if err != nil {
		return err
	}
	total, err := s.listTotal(c, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": mapSlice(docs, toDocumentJSON), "next_cursor": encodeCursor(next), "total": total})
}

type patchDocumentRequest struct {
	Filename *string   `json:"filename"`
	TopicIDs *[]string `json:"topic_ids"`
}

func (s *Server) patchDocument(c echo.Context) error {
	var req patchDocumentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Filename != nil {
		if err := validFilename(*req.Filename); err != nil {
			return err
		}
	}
	if req.TopicIDs != nil {
		if len(*req.TopicIDs) > maxTopicIDs {
			return fail(http.StatusBadRequest, "topic_ids must list at most 100 topics")
		}
		for _, id := range *req.TopicIDs {
			if !validID(id) {
				return fail(http.StatusUnprocessableEntity, "topic_ids must be system topics or your own")
			}
		}
	}
	d, err := s.store.UpdateDocument(c.Request().Context(), caller(c).ID, c.Param("id"),
		store.DocumentPatch{Filename: req.Filename, TopicIDs: req.TopicIDs, Terms: classify.Terms})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDocumentJSON(d))
}

// deleteDocument gives the space back in the same transaction that queues the object's
// deletion, then tries the deletion at once (the drain retries if the store is down).
func (s *Server) deleteDocument(c echo.Context) error {
	ctx := c.Request().Context()
	keys, err := s.store.DeleteDocument(ctx, caller(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	s.deleteObjectsNow(ctx, keys...)
	return c.NoContent(http.StatusNoContent)
}

// contentDisposition is an attachment header with the filename safely encoded (RFC 2231/5987
// for anything outside plain ASCII, so quotes or CR/LF cannot break out).
func contentDisposition(filename string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": filename}); v != "" {
		return v
	}
	return "attachment"
}

// finishedDocument loads the caller's document named in the path; 409 while its upload is
// unfinished.
func (s *Server) finishedDocument(c echo.Context) (store.Document, error) {
	d, err := s.store.Document(c.Request().Context(), caller(c).ID, c.Param("id"))
	if err == nil && d.Status == store.StatusPending {
		err = fail(http.StatusConflict, "the upload of this document is not finished")
	}
	return d, err
}

// downloadDocument redirects to a short-lived presigned URL (S3) or streams the file with
// Range and ETag support (local).
func (s *Server) downloadDocument(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := s.finishedDocument(c)
	if err != nil {
		return err
	}
	disposition := contentDisposition(d.Filename)
	if p, ok := s.rawBlobs.(blob.GetPresigner); ok {
		u, err := p.PresignGet(ctx, d.ObjectKey, downloadURLTTL, disposition, d.ContentType)
		if err != nil {
			return blobDown(err)
		}
		return c.Redirect(http.StatusFound, u)
	}
	r, info, err := s.blobs.Open(ctx, d.ObjectKey)
	if errors.Is(err, blob.ErrNotFound) {
		return fail(http.StatusNotFound, "the stored file is missing")
	}
	if err != nil {
		return blobDown(err)
	}
	defer r.Close()
	h := c.Response().Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Disposition", disposition)
	h.Set("ETag", info.ETag)
	h.Set("Cache-Control", "private, no-cache")
	http.ServeContent(c.Response(), c.Request(), "", info.ModTime, r)
	return nil
}

// reclassify puts a document back in the classification queue.
func (s *Server) reclassify(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := s.finishedDocument(c)
	if err != nil {
		return err
	}
	if err := s.store.Requeue(ctx, caller(c).ID, d.ID); err != nil {
		return err
	}
	d.Status, d.Error, d.Attempts = store.StatusUploaded, nil, 0
	s.notifyQueue(c, d.ID)
	return c.JSON(http.StatusAccepted, toDocumentJSON(d))
}

// notifyQueue wakes a classification worker for the document.
func (s *Server) notifyQueue(c echo.Context, documentID string) {
	if s.opts.Queue != nil {
		s.opts.Queue.NotifyDocument(documentID, c.Response().Header().Get(echo.HeaderXRequestID))
	}
}
