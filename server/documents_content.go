package server

import (
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/store"
)

// documentText serves the text extracted (or recognised) from a document as plain text.
func (s *Server) documentText(c echo.Context) error {
	d, err := s.finishedDocument(c)
	if err != nil {
		return err
	}
	text, err := s.store.DocumentText(c.Request().Context(), caller(c).ID, d.ID)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-cache")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(text))
}

// previewType is the media type a browser is given to show a document inline, or "" when
// the type is not safe to show: HTML and SVG run scripts, Office files and unknown types
// may be sniffed into something that does. Text of any kind is shown as plain text.
func previewType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	switch mt {
	case "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp":
		return mt
	case "text/plain", "text/markdown", "text/x-markdown", "text/csv":
		return "text/plain; charset=utf-8"
	}
	return ""
}

// inlineDisposition shows the file in the browser, under its name if saved.
func inlineDisposition(filename string) string {
	if v := mime.FormatMediaType("inline", map[string]string{"filename": filename}); v != "" {
		return v
	}
	return "inline"
}

// previewDocument serves the bytes inline for types a browser shows safely, sandboxed (no
// scripts, no same-origin access, even for a PDF viewer's JavaScript) and never sniffed;
// 415 for everything else, which stays a download. S3: a presigned GET on the object
// store's own origin with an inline disposition and the safe type.
func (s *Server) previewDocument(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := s.finishedDocument(c)
	if err != nil {
		return err
	}
	ct := previewType(d.ContentType)
	if ct == "" {
		return fail(http.StatusUnsupportedMediaType, "this file type has no inline preview; download it instead")
	}
	disposition := inlineDisposition(d.Filename)
	if p, ok := s.rawBlobs.(blob.GetPresigner); ok {
		u, err := p.PresignGet(ctx, d.ObjectKey, downloadURLTTL, disposition, ct)
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
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", info.ETag)
	h.Set("Cache-Control", "private, no-cache")
	http.ServeContent(c.Response(), c.Request(), "", info.ModTime, r)
	return nil
}

// documentThumbnail serves the thumbnail the worker made (404 until then), with an ETag so
// a list of documents revalidates its thumbnails with 304s.
func (s *Server) documentThumbnail(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := s.store.Document(ctx, caller(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	ct, err := s.store.ThumbnailType(ctx, d.UserID, d.ID)
	if err != nil {
		return err
	}
	if ct == "" {
		return fail(http.StatusNotFound, "no thumbnail yet")
	}
	r, info, err := s.blobs.Open(ctx, store.ThumbKeyFor(d.ObjectKey))
	if errors.Is(err, blob.ErrNotFound) {
		return fail(http.StatusNotFound, "no thumbnail yet")
	}
	if err != nil {
		return blobDown(err)
	}
	defer r.Close()
	h := c.Response().Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("ETag", info.ETag)
	h.Set("Cache-Control", "private, no-cache")
	http.ServeContent(c.Response(), c.Request(), "", info.ModTime, r)
	return nil
}
