// Package content owns what a document's bytes say and look like: PDF text and page
// renders (PDFium in WebAssembly), OCR through tesseract, and thumbnails. Pure functions of
// bytes, no database.
package content

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"sync"

	"github.com/klippa-app/go-pdfium"
	pdfiumerrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// ErrNoPDFium means PDFium could not be started on this machine.
var ErrNoPDFium = errors.New("PDFium unavailable")

// ErrEncrypted is a PDF that needs a password.
var ErrEncrypted = errors.New("the PDF is encrypted (password protected)")

// PDFium opens PDFs in PDFium compiled to WebAssembly (wazero: no cgo, a static binary).
// The runtime starts when the first PDF arrives, not at start-up; with a cache directory
// the compiled module is kept on disk, so later starts skip the compilation.
type PDFium struct {
	cacheDir  string
	instances int
	memPages  uint32

	once sync.Once
	pool pdfium.Pool
	err  error
}

// PDFiumMemoryLimit bounds the WebAssembly memory of one PDFium instance: a PDF that needs
// more fails with an error instead of taking the server's memory.
const PDFiumMemoryLimit = 512 << 20

// NewPDFium prepares (but does not start) PDFium for at most instances PDFs at once, with
// its compilation cache in cacheDir ("" = none).
func NewPDFium(cacheDir string, instances int) *PDFium {
	return &PDFium{cacheDir: cacheDir, instances: max(instances, 1), memPages: PDFiumMemoryLimit / 65536}
}

func (p *PDFium) start() (pdfium.Pool, error) {
	p.once.Do(func() {
		rc := wazero.NewRuntimeConfig().
			WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
			// Not WithCloseOnContextDone: its checks made page renders 8 times slower. A
			// document past its deadline has its instance killed instead, so the call under
			// way (one page) is the last.
			WithMemoryLimitPages(p.memPages)
		if p.cacheDir != "" {
			if err := os.MkdirAll(p.cacheDir, 0o750); err == nil {
				if cache, err := wazero.NewCompilationCacheWithDir(p.cacheDir); err == nil {
					rc = rc.WithCompilationCache(cache)
				}
			}
		}
		p.pool, p.err = webassembly.Init(webassembly.Config{
			MinIdle: 0, MaxIdle: p.instances, MaxTotal: p.instances, RuntimeConfig: rc, ReuseWorkers: true,
			FSConfig: wazero.NewFSConfig(), // no host files: documents are passed as bytes
			Stdout:   io.Discard, Stderr: io.Discard,
		})
		if p.err != nil {
			p.err = fmt.Errorf("%w: %w", ErrNoPDFium, p.err)
		}
	})
	return p.pool, p.err
}

// Close stops PDFium if it was started.
func (p *PDFium) Close() error {
	if p.pool != nil {
		return p.pool.Close()
	}
	return nil
}

// PDF is one open document; Close it when done.
type PDF struct {
	inst  pdfium.Pdfium
	doc   references.FPDF_DOCUMENT
	pages int
	stop  func() bool
}

// Open reads a PDF of size bytes from r. ctx bounds everything done with it: once ctx ends,
// the PDFium instance is killed and every later call fails.
func (p *PDFium) Open(ctx context.Context, r io.ReadSeeker, size int64) (*PDF, error) {
	pool, err := p.start()
	if err != nil {
		return nil, err
	}
	inst, err := pool.GetInstanceWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for PDFium: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = inst.Kill() })
	d := &PDF{inst: inst, stop: stop}
	doc, err := inst.OpenDocument(&requests.OpenDocument{FileReader: r, FileReaderSize: size})
	if err != nil {
		d.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("reading the PDF: %w", context.Cause(ctx))
		}
		switch {
		case errors.Is(err, pdfiumerrors.ErrPassword), errors.Is(err, pdfiumerrors.ErrSecurity):
			return nil, ErrEncrypted
		case errors.Is(err, pdfiumerrors.ErrFormat), errors.Is(err, pdfiumerrors.ErrFile):
			return nil, errors.New("unreadable PDF: damaged or not a PDF")
		}
		return nil, fmt.Errorf("unreadable PDF: %w", err)
	}
	d.doc = doc.Document
	n, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: d.doc})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("unreadable PDF: %w", err)
	}
	d.pages = n.PageCount
	return d, nil
}

// Pages is the number of pages.
func (d *PDF) Pages() int { return d.pages }

func (d *PDF) page(i int) requests.Page {
	return requests.Page{ByIndex: &requests.PageByIndex{Document: d.doc, Index: i}}
}

// Text is the text layer of page i (0-based); "" for a scanned page. The page's text is
// fetched with one call into PDFium (GetPageText makes one per character, 18 times slower).
func (d *PDF) Text(i int) (string, error) {
	tp, err := d.inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: d.page(i)})
	if err != nil {
		return "", fmt.Errorf("unreadable PDF page %d: %w", i+1, err)
	}
	defer d.inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	n, err := d.inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
	if err != nil {
		return "", fmt.Errorf("unreadable PDF page %d: %w", i+1, err)
	}
	if n.Count <= 0 {
		return "", nil
	}
	t, err := d.inst.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp.TextPage, Count: n.Count})
	if err != nil {
		return "", fmt.Errorf("unreadable PDF page %d: %w", i+1, err)
	}
	return t.Text, nil
}

// RenderGray draws page i at dpi in grey levels into a new image (copied out of PDFium's
// memory): what OCR reads, at a quarter of the memory of colour.
func (d *PDF) RenderGray(i, dpi int) (image.Image, error) {
	r, err := d.inst.RenderPageInDPI(&requests.RenderPageInDPI{Page: d.page(i), DPI: dpi,
		ImageFormat: requests.RenderImageFormatGrayscale})
	if err != nil {
		return nil, fmt.Errorf("rendering PDF page %d: %w", i+1, err)
	}
	defer r.Cleanup()
	return cloneImage(r.Result.RenderedImage), nil
}

// RenderWidth draws page i at most width pixels wide (height to scale).
func (d *PDF) RenderWidth(i, width int) (image.Image, error) {
	r, err := d.inst.RenderPageInPixels(&requests.RenderPageInPixels{Page: d.page(i), Width: width, Height: 4 * width})
	if err != nil {
		return nil, fmt.Errorf("rendering PDF page %d: %w", i+1, err)
	}
	defer r.Cleanup()
	return cloneImage(r.Result.RenderedImage), nil
}

// Close releases the document and gives the instance back.
func (d *PDF) Close() {
	if d.stop != nil && !d.stop() {
		return // killed at the deadline: nothing left to close
	}
	if d.doc != "" {
		_, _ = d.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: d.doc})
	}
	_ = d.inst.Close()
}

// cloneImage copies an image whose pixels live in PDFium's memory.
func cloneImage(src image.Image) image.Image {
	switch s := src.(type) {
	case *image.RGBA:
		c := *s
		c.Pix = append([]byte(nil), s.Pix...)
		return &c
	case *image.Gray:
		c := *s
		c.Pix = append([]byte(nil), s.Pix...)
		return &c
	}
	return src
}
