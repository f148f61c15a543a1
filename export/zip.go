// Package export writes a user's documents as a zip streamed from the blob store: the
// "download all" export with its manifest, and the bulk download of chosen documents.
package export

import (
	"archive/zip"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/store"
)

// Blobs is the part of the blob store a zip reads from.
type Blobs interface {
	Open(ctx context.Context, key string) (io.ReadSeekCloser, blob.Info, error)
}

// Zip streams documents into a zip archive, one entry at a time: memory stays flat
// whatever the sizes, and nothing is written to disk.
type Zip struct {
	zw    *zip.Writer
	blobs Blobs
	names *names
}

// NewZip starts a zip on w.
func NewZip(w io.Writer, blobs Blobs) *Zip {
	zw := zip.NewWriter(w)
	// Most documents (PDF, images, office files) are compressed already; text is not, and
	// the fastest level gets most of its gain at a fraction of the CPU.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	return &Zip{zw: zw, blobs: blobs, names: newNames()}
}

// Add streams one document's original into the zip under a unique name and describes it.
// A missing object is no error: the entry says Missing and nothing is written.
func (z *Zip) Add(ctx context.Context, d store.ExportDocument) (Document, error) {
	e := Document{ID: d.ID, Filename: d.Filename, ContentType: d.ContentType, Status: d.Status,
		CreatedAt: d.CreatedAt, UploadedAt: d.UploadedAt, ClassifiedAt: d.ClassifiedAt, TopicIDs: d.TopicIDs}
	if e.TopicIDs == nil {
		e.TopicIDs = []string{}
	}
	r, _, err := z.blobs.Open(ctx, d.ObjectKey)
	if errors.Is(err, blob.ErrNotFound) {
		e.Missing = true
		return e, nil
	}
	if err != nil {
		return e, &BlobError{fmt.Errorf("export: open %s: %w", d.ID, err)}
	}
	defer r.Close()
	e.Path = z.names.take(d.Filename)
	method := zip.Store
	if compressible(d.ContentType) {
		method = zip.Deflate
	}
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: e.Path, Method: method, Modified: d.CreatedAt})
	if err != nil {
		return e, fmt.Errorf("export: zip entry: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), ctxReader{ctx, r})
	if err != nil {
		return e, &BlobError{fmt.Errorf("export: copy %s: %w", d.ID, err)}
	}
	e.Size, e.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return e, nil
}

// BlobError is a failure reading the blob store (or writing the zip while copying), as
// opposed to one of the database.
type BlobError struct{ Err error }

func (b *BlobError) Error() string { return b.Err.Error() }
func (b *BlobError) Unwrap() error { return b.Err }

// Create starts an entry of the zip's own (the manifest), compressed.
func (z *Zip) Create(name string) (io.Writer, error) {
	return z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
}

// Close writes the zip's central directory.
func (z *Zip) Close() error { return z.zw.Close() }

// compressible tells the content types worth deflating.
func compressible(contentType string) bool {
	ct := strings.ToLower(contentType)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	switch {
	case strings.HasPrefix(ct, "text/"), ct == "application/json", ct == "application/xml",
		strings.HasSuffix(ct, "+json"), strings.HasSuffix(ct, "+xml"), ct == "image/bmp", ct == "image/tiff":
		return true
	}
	return false
}

// ctxReader stops a long copy as soon as the context ends (a client that went away).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
