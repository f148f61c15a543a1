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
	"sort"
	"sync/atomic"
	"syscall"
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

// tesseractDirect runs tesseract on a file the way an administrator would, one thread as
// the pipeline runs it.
func tesseractDirect(b *testing.B, file string, args ...string) {
	cmd := exec.Command("tesseract", append([]string{file, "stdout", "-l", "eng"}, args...)...)
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	if err := cmd.Run(); err != nil {
		b.Fatal(err)
	}
}

// costs are the wall-clock and CPU seconds (this process and the commands it ran) of each
// run: on a shared machine the CPU time is the steadier of the two, and the median of
// either shrugs off a run that another process slowed.
type costs struct{ wall, cpu []float64 }

func rusageSeconds() float64 {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	sec := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return sec(self.Utime) + sec(self.Stime) + sec(children.Utime) + sec(children.Stime)
}

func (c *costs) add(f func()) {
	start, cpu := time.Now(), rusageSeconds()
	f()
	c.wall = append(c.wall, time.Since(start).Seconds())
	c.cpu = append(c.cpu, rusageSeconds()-cpu)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// overheadPct is the median over the runs of how much longer a than the baseline b took
// (each pair measured back to back), in percent.
func overheadPct(a, b []float64) float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = 100 * (a[i] - b[i]) / b[i]
	}
	return median(r)
}

// BenchmarkOCR recognises one page through DocuVault's pipeline (Reader.Read: open,
// text-layer check, thumbnail, OCR) beside tesseract run directly on the same page image,
// for an image-only PDF (a JPEG scan inside) and for a PNG and a JPEG photo upload. Each
// iteration runs the two back to back, in turns first, so a change in the machine's load
// hits both alike; the figures are medians over the iterations. The same Read without OCR
// (the thumbnail and text layer alone) separates what OCR costs from what every document
// costs; for the PDF, the pipeline as it was before the page's own JPEG was read (a 300 dpi
// render, PNG-encoded, on stdin) runs too.
func BenchmarkOCR(b *testing.B) {
	if _, err := exec.LookPath("tesseract"); err != nil {
		b.Skip("tesseract not installed")
	}
	ocr, err := content.FindOCR("on", "tesseract", "eng")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	write := func(name string, data []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, data, 0o600); err != nil {
			b.Fatal(err)
		}
		return f
	}
	// A full page, as an invoice or letter is: tesseract's time depends on how much text
	// there is, the pipeline's cost does not.
	var lines, receipt []string
	for i := 1; i <= 36; i++ {
		lines = append(lines, fmt.Sprintf("%02d  Electricity supply for March, meter 48211, %d.%02d EUR", i, 10+i, 3*i))
	}
	for i := 1; i <= 24; i++ {
		receipt = append(receipt, fmt.Sprintf("Item %02d  wood screws, box of %d  %d.%02d EUR", i, 10*i, i, 7*i%100))
	}
	scan := testdocs.Scan(2480, 3508, 11, lines...)
	jpg := testdocs.JPEG(scan, 85)
	doc := testdocs.ScanPDF(scan, testdocs.ScanOptions{JPEG: jpg})
	photo := testdocs.Scan(4000, 3000, 10, receipt...)
	photoJPEG := testdocs.JPEG(photo, 90)
	var photoPNG bytes.Buffer
	if err := png.Encode(&photoPNG, photo); err != nil {
		b.Fatal(err)
	}
	r := &content.Reader{PDF: pdfium, OCR: ocr, OCRMaxPages: 1, OCRDPI: 300}
	noOCR := &content.Reader{PDF: pdfium}
	read := func(r *content.Reader, kind string, doc []byte) func() {
		return func() {
			if _, err := r.Read(context.Background(), kind, bytes.NewReader(doc), int64(len(doc))); err != nil {
				b.Fatal(err)
			}
		}
	}
	read(noOCR, "pdf", doc)() // PDFium started and compiled
	report := func(b *testing.B, direct, pipeline, thumb costs) {
		b.ReportMetric(median(direct.wall), "direct-s/page")
		b.ReportMetric(median(pipeline.wall), "docuvault-s/page")
		b.ReportMetric(overheadPct(pipeline.wall, direct.wall), "overhead-%")
		b.ReportMetric(median(direct.cpu), "direct-cpu-s/page")
		b.ReportMetric(median(pipeline.cpu), "docuvault-cpu-s/page")
		b.ReportMetric(overheadPct(pipeline.cpu, direct.cpu), "cpu-overhead-%")
		b.ReportMetric(median(thumb.cpu), "thumbnail-cpu-s")
		ocr := make([]float64, len(pipeline.cpu))
		for i := range ocr {
			ocr[i] = pipeline.cpu[i] - thumb.cpu[i]
		}
		b.ReportMetric(overheadPct(ocr, direct.cpu), "ocr-cpu-overhead-%")
		b.ReportMetric(0, "ns/op")
	}
	// Runs a and b back to back, in turns first, so that a trend in the load hits both.
	pair := func(i int, a, b func()) {
		if i%2 == 0 {
			a()
			b()
		} else {
			b()
			a()
		}
	}
	b.Run("scan-pdf-jpeg", func(b *testing.B) {
		page := write("page.jpg", jpg)
		var direct, pipeline, thumb, before costs
		for i := 0; i < b.N; i++ {
			pair(i, func() { direct.add(func() { tesseractDirect(b, page, "--dpi", "300") }) },
				func() { pipeline.add(read(r, "pdf", doc)) })
			thumb.add(read(noOCR, "pdf", doc))
			before.add(func() {
				read(noOCR, "pdf", doc)() // text layer and thumbnail, as before
				d, err := pdfium.Open(context.Background(), bytes.NewReader(doc), int64(len(doc)))
				if err != nil {
					b.Fatal(err)
				}
				img, err := d.RenderGray(0, 300)
				d.Close()
				if err != nil {
					b.Fatal(err)
				}
				var in bytes.Buffer
				if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&in, img); err != nil {
					b.Fatal(err)
				}
				if _, err := ocr.RecognizeEncoded(context.Background(), &in, 300); err != nil {
					b.Fatal(err)
				}
			})
		}
		report(b, direct, pipeline, thumb)
		b.ReportMetric(median(before.wall), "before-s/page")
		b.ReportMetric(median(before.cpu), "before-cpu-s/page")
		b.ReportMetric(overheadPct(before.cpu, direct.cpu), "before-cpu-overhead-%")
	})
	for _, up := range []struct {
		name string
		data []byte
	}{{"photo-png", photoPNG.Bytes()}, {"photo-jpeg", photoJPEG}} {
		b.Run(up.name, func(b *testing.B) {
			file := write(up.name, up.data)
			var direct, pipeline, thumb costs
			for i := 0; i < b.N; i++ {
				pair(i, func() { direct.add(func() { tesseractDirect(b, file) }) },
					func() { pipeline.add(read(r, "image", up.data)) })
				thumb.add(read(noOCR, "image", up.data))
			}
			report(b, direct, pipeline, thumb)
		})
	}
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
