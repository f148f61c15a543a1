package classify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/content"
	"github.com/docuvault/docuvault/store"
)

// UnreadableError is a file that can never be read (damaged, encrypted, too large):
// the document is classification_failed at once, with this reason, not retried.
type UnreadableError struct{ Err error }

func (e *UnreadableError) Error() string { return e.Err.Error() }
func (e *UnreadableError) Unwrap() error { return e.Err }

// thumbnailStore is the part of the blob store that keeps thumbnails.
type thumbnailStore interface {
	Put(ctx context.Context, key string, r io.Reader, maxBytes int64, contentType string) (blob.Info, error)
	Delete(ctx context.Context, key string) error
}

// readContent reads a PDF or an image through the content reader: the text layer, OCR for
// scans, and a thumbnail, which is stored beside the document. PDFs fall back to the
// built-in PDF parser only when PDFium cannot start on this machine.
func (p *Pool) readContent(ctx context.Context, j store.Job, kind string, r io.ReadSeeker, size int64) (string, *string, error) {
	res, err := p.cfg.Content.Read(ctx, kind, ctxReadSeeker{ctx, r}, size)
	if ctx.Err() != nil {
		return "", nil, fmt.Errorf("text extraction: %w", context.Cause(ctx))
	}
	if errors.Is(err, content.ErrNoPDFium) && kind == "pdf" {
		p.cfg.Logger.Warn("PDFium unavailable; reading the PDF with the built-in parser", "document_id", j.DocumentID, "err", err)
		if _, serr := r.Seek(0, io.SeekStart); serr != nil {
			return "", nil, fmt.Errorf("reading the stored file: %w", serr)
		}
		text, err := ExtractContext(ctx, &seekReaderAt{r: r}, size, j.ContentType, j.Filename, p.cfg.Limits)
		if err != nil {
			return "", nil, &UnreadableError{Err: err}
		}
		return text, nil, nil
	}
	var ue *content.OCRError
	switch {
	case errors.As(err, &ue):
		return "", nil, err // tesseract failed or ran out of time: retried
	case err != nil:
		return "", nil, &UnreadableError{Err: err}
	}
	if len(res.Thumbnail) > 0 {
		p.saveThumbnail(ctx, j, res.Thumbnail)
	}
	var note *string
	if res.Note != "" {
		note = &res.Note
	}
	return truncate(normalizeSpace(res.Text), p.cfg.Limits.MaxChars), note, nil
}

// saveThumbnail stores a thumbnail beside the document (never charged to the quota). A
// thumbnail that cannot be stored is logged and left out: the document is still classified.
func (p *Pool) saveThumbnail(ctx context.Context, j store.Job, b []byte) {
	w, ok := p.blobs.(thumbnailStore)
	if !ok {
		return
	}
	key := store.ThumbKeyFor(j.ObjectKey)
	if _, err := w.Put(ctx, key, bytes.NewReader(b), int64(len(b)), content.ThumbnailType); err != nil {
		p.cfg.Logger.Warn("thumbnail not stored", "document_id", j.DocumentID, "err", err)
		return
	}
	kept, err := p.store.SetThumbnail(ctx, j.DocumentID, content.ThumbnailType)
	if err != nil || !kept {
		// Deleted meanwhile: its outbox entry may have run before this thumbnail existed.
		if derr := w.Delete(context.WithoutCancel(ctx), key); derr != nil {
			p.cfg.Logger.Warn("thumbnail of a deleted document left for the integrity sweep", "document_id", j.DocumentID, "err", derr)
		}
	}
	if err != nil {
		p.cfg.Logger.Warn("thumbnail not recorded", "document_id", j.DocumentID, "err", err)
	}
}

// ctxReadSeeker stops reading once ctx ends.
type ctxReadSeeker struct {
	ctx context.Context
	r   io.ReadSeeker
}

func (c ctxReadSeeker) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

func (c ctxReadSeeker) Seek(off int64, whence int) (int64, error) { return c.r.Seek(off, whence) }
