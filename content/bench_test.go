package content_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuvault/docuvault/classify"
	"github.com/docuvault/docuvault/content"
	"github.com/docuvault/docuvault/internal/testdocs"
)

// peakHeap runs f while sampling the heap and returns the largest growth over the heap
// before it (PDFium's WebAssembly memory is Go memory too, so it counts).
func peakHeap(f func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			var s runtime.MemStats
			runtime.ReadMemStats(&s)
			if s.HeapInuse > base && s.HeapInuse-base > peak.Load() {
				peak.Store(s.HeapInuse - base)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	<-stopped
	return peak.Load()
}

func textPages(n int) []byte {
	pages := make([][]string, n)
	for i := range pages {
		for l := 0; l < 40; l++ {
			pages[i] = append(pages[i], fmt.Sprintf("Page %d line %d: the quarterly statement lists every invoice and payment.", i+1, l+1))
		}
	}
	return testdocs.TextPDF(pages...)
}

// BenchmarkPDFText reads the text of a 50-page text PDF through PDFium-WASM and through the
// built-in parser (ledongthuc/pdf, the fallback) in the same run.
func BenchmarkPDFText(b *testing.B) {
	doc := textPages(50)
	r := &content.Reader{PDF: pdfium, MaxChars: 10_000_000}
	if _, err := r.Read(context.Background(), "pdf", bytes.NewReader(doc), int64(len(doc))); err != nil { // started and compiled
		b.Fatal(err)
	}
	b.Run("pdfium-wasm", func(b *testing.B) {
		var peak uint64
		for i := 0; i < b.N; i++ {
			peak = max(peak, peakHeap(func() {
				d, err := pdfium.Open(context.Background(), bytes.NewReader(doc), int64(len(doc)))
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close()
				for p := 0; p < d.Pages(); p++ {
					if _, err := d.Text(p); err != nil {
						b.Fatal(err)
					}
				}
			}))
		}
		b.ReportMetric(float64(50*b.N)/b.Elapsed().Seconds(), "pages/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	})
	b.Run("ledongthuc-pdf", func(b *testing.B) {
		lim := classify.Limits{MaxBytes: 1 << 30, MaxChars: 10_000_000}
		var peak uint64
		for i := 0; i < b.N; i++ {
			peak = max(peak, peakHeap(func() {
				if _, err := classify.Extract(bytes.NewReader(doc), int64(len(doc)), "application/pdf", "a.pdf", lim); err != nil {
					b.Fatal(err)
				}
			}))
		}
		b.ReportMetric(float64(50*b.N)/b.Elapsed().Seconds(), "pages/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	})
}

// BenchmarkOCR recognises one scanned A4 page: DocuVault's pipeline (PDFium renders the
// image-only PDF at 300 dpi, tesseract reads it from stdin) beside tesseract run directly
// on the same page rendered to a PNG file.
func BenchmarkOCR(b *testing.B) {
	if _, err := exec.LookPath("tesseract"); err != nil {
		b.Skip("tesseract not installed")
	}
	ocr, err := content.FindOCR("on", "tesseract", "eng")
	if err != nil {
		b.Fatal(err)
	}
	doc := testdocs.ImagePDF(testdocs.Scan(2480, 3508, 11, "Invoice 2026-0042", "Electricity supply for March",
		"Meter reading 48211 kWh", "Amount due 84.20 EUR", "Please pay within 14 days"))
	r := &content.Reader{PDF: pdfium, OCR: ocr, OCRMaxPages: 1, OCRDPI: 300}
	d, err := pdfium.Open(context.Background(), bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		b.Fatal(err)
	}
	page, err := d.RenderGray(0, 300)
	d.Close()
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "page.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, page); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Run("docuvault", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := r.Read(context.Background(), "pdf", bytes.NewReader(doc), int64(len(doc))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/page")
	})
	b.Run("tesseract-direct", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			cmd := exec.Command("tesseract", file, "stdout", "-l", "eng", "--dpi", "300")
			cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/page")
	})
}

// BenchmarkThumbnail makes the thumbnail of a 20-page PDF and of a 12-megapixel JPEG
// photo, with the peak heap growth of one worker.
func BenchmarkThumbnail(b *testing.B) {
	pdf := textPages(20)
	photo := testdocs.JPEG(testdocs.Scan(4000, 3000, 10, "A photo of a receipt"), 90)
	r := &content.Reader{PDF: pdfium, MaxChars: 1} // text stops after page one: the thumbnail is the work
	for name, tc := range map[string]struct {
		kind string
		doc  []byte
	}{"pdf-20-pages": {"pdf", pdf}, "jpeg-12MP": {"image", photo}} {
		b.Run(name, func(b *testing.B) {
			var peak uint64
			for i := 0; i < b.N; i++ {
				peak = max(peak, peakHeap(func() {
					res, err := r.Read(context.Background(), tc.kind, bytes.NewReader(tc.doc), int64(len(tc.doc)))
					if err != nil || len(res.Thumbnail) == 0 {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/doc")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}
