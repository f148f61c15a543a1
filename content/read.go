package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Reader reads PDFs and images: their text (the text layer, or OCR where a page has none)
// and a thumbnail.
type Reader struct {
	PDF         *PDFium
	OCR         *OCR          // nil: no OCR
	OCRMaxPages int           // pages (or images) recognised per document at most
	OCRTimeout  time.Duration // all OCR of one document
	OCRDPI      int           // render resolution of a page for OCR
	MaxPDFBytes int64         // larger PDFs are refused
	MaxChars    int           // stop reading pages once this much text is held
}

// Result is what a document's bytes gave.
type Result struct {
	Text      string
	Thumbnail []byte // JPEG, nil if none could be made
	Note      string // why some text is missing ("" if none is)
}

// Read reads a document of kind ("pdf" or "image", see Kind) of size bytes. An error means
// the file cannot be read at all (damaged, encrypted, too large); pages that need OCR while
// none is available give a Note instead.
func (r *Reader) Read(ctx context.Context, kind string, f io.ReadSeeker, size int64) (Result, error) {
	var res Result
	var err error
	switch kind {
	case "pdf":
		res, err = r.readPDF(ctx, f, size)
	case "image":
		res, err = r.readImage(ctx, f)
	default:
		return Result{}, errors.New("not a PDF or an image")
	}
	if err != nil && ctx.Err() != nil {
		// Whatever failed first, the deadline (or shutdown) is the cause.
		return Result{}, fmt.Errorf("reading the document: %w", context.Cause(ctx))
	}
	return res, err
}

func (r *Reader) readImage(ctx context.Context, f io.ReadSeeker) (Result, error) {
	img, format, err := decodeImage(f)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if res.Thumbnail, err = Thumbnail(img); err != nil {
		return Result{}, err
	}
	if r.OCR == nil {
		res.Note = ErrNoOCR.Error()
		return res, nil
	}
	octx, cancel := context.WithTimeout(ctx, r.ocrTimeout())
	defer cancel()
	if format == "jpeg" || format == "png" {
		// Every tesseract reads these: the upload goes to it as it is, streamed, instead
		// of being encoded again.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return Result{}, fmt.Errorf("reading the image: %w", err)
		}
		res.Text, err = r.OCR.RecognizeEncoded(octx, f, 0)
	} else {
		res.Text, err = r.OCR.Recognize(octx, img, 0)
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func (r *Reader) readPDF(ctx context.Context, f io.ReadSeeker, size int64) (Result, error) {
	if r.MaxPDFBytes > 0 && size > r.MaxPDFBytes {
		return Result{}, fmt.Errorf("PDF of %d bytes is larger than the %d bytes read", size, r.MaxPDFBytes)
	}
	doc, err := r.PDF.Open(ctx, f, size)
	if err != nil {
		return Result{}, err
	}
	defer doc.Close()
	var res Result
	if doc.Pages() > 0 {
		img, err := doc.RenderWidth(0, ThumbnailWidth)
		if err != nil {
			return Result{}, err
		}
		if res.Thumbnail, err = Thumbnail(img); err != nil {
			return Result{}, err
		}
	}
	octx, cancel := context.WithTimeout(ctx, r.ocrTimeout())
	defer cancel()
	var b strings.Builder
	recognised, scanned := 0, 0
	for i := 0; i < doc.Pages() && (r.MaxChars <= 0 || b.Len() < 4*r.MaxChars); i++ {
		text, err := doc.Text(i)
		if err != nil {
			return Result{}, err
		}
		if strings.TrimSpace(text) == "" {
			scanned++
			if r.OCR != nil && recognised < r.OCRMaxPages {
				recognised++
				if text, err = r.recognisePage(octx, doc, i); err != nil {
					return Result{}, err
				}
			}
		}
		b.WriteString(text)
		b.WriteByte('\n')
	}
	res.Text = b.String()
	switch {
	case scanned > 0 && r.OCR == nil:
		res.Note = fmt.Sprintf("%s (%d of %d pages have no text layer)", ErrNoOCR, scanned, doc.Pages())
	case scanned > recognised:
		res.Note = fmt.Sprintf("OCR read the first %d of %d pages without a text layer (ocr.max_pages)", recognised, scanned)
	}
	return res, nil
}

func (r *Reader) recognisePage(ctx context.Context, doc *PDF, i int) (string, error) {
	dpi := r.OCRDPI
	if dpi <= 0 {
		dpi = 300
	}
	img, err := doc.OCRImage(i, dpi)
	if err != nil {
		return "", err
	}
	text, err := r.OCR.RecognizeEncoded(ctx, bytes.NewReader(img.Data), img.DPI)
	if err != nil && img.Source != SourceRender && ctx.Err() == nil {
		// tesseract could not read the stored image (damaged data PDFium may still draw
		// in part): the page as rendered is what it had read before.
		if img, err = doc.renderForOCR(i, dpi); err != nil {
			return "", err
		}
		text, err = r.OCR.RecognizeEncoded(ctx, bytes.NewReader(img.Data), img.DPI)
	}
	return text, err
}

func (r *Reader) ocrTimeout() time.Duration {
	if r.OCRTimeout <= 0 {
		return 5 * time.Minute
	}
	return r.OCRTimeout
}
