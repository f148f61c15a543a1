package content_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/docuvault/docuvault/content"
	"github.com/docuvault/docuvault/internal/testdocs"
)

// recordingOCR runs the real tesseract through a wrapper that keeps a copy of what each
// run was given on stdin and its arguments; inputs returns them in run order.
func recordingOCR(t *testing.T) (*content.Reader, func() [][]byte, func() []string) {
	t.Helper()
	if _, err := exec.LookPath("tesseract"); err != nil {
		t.Skip("tesseract is not installed (scripts/test installs tesseract-ocr)")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "tesseract-recording")
	body := fmt.Sprintf("#!/bin/sh\nn=$(ls %[1]q | grep -c '^in-')\necho \"$@\" > %[1]q/args-$n\ntee %[1]q/in-$n | exec tesseract \"$@\"\n", dir)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	o, err := content.FindOCR("on", script, "eng")
	if err != nil {
		t.Fatal(err)
	}
	r := reader(t, false)
	r.OCR, r.OCRDPI = o, 300
	read := func(prefix string) [][]byte {
		var out [][]byte
		for n := 0; ; n++ {
			b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s-%d", prefix, n)))
			if err != nil {
				return out
			}
			out = append(out, b)
		}
	}
	args := func() []string {
		var out []string
		for _, a := range read("args") {
			out = append(out, strings.TrimSpace(string(a)))
		}
		return out
	}
	return r, func() [][]byte { return read("in") }, args
}

func scanOf(lines ...string) image.Image { return testdocs.Scan(1400, 900, 12, lines...) }

func mustRead(t *testing.T, r *content.Reader, kind string, doc []byte) content.Result {
	t.Helper()
	res, err := r.Read(context.Background(), kind, bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantWords(t *testing.T, text string, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(text, w) {
			t.Fatalf("text %q lacks %q", text, w)
		}
	}
}

// TestOCRReadsEmbeddedJPEGAsStored: the JPEG of an image-only page goes to tesseract byte
// for byte as the PDF stores it (no render, no re-encode), with the scan's resolution, and
// its words are found.
func TestOCRReadsEmbeddedJPEGAsStored(t *testing.T) {
	r, inputs, args := recordingOCR(t)
	img := scanOf("Water bill for April", "Account 7730215")
	jpg := testdocs.JPEG(img, 85)
	doc := testdocs.ScanPDF(img, testdocs.ScanOptions{JPEG: jpg})
	res := mustRead(t, r, "pdf", doc)
	wantWords(t, res.Text, "Water bill", "7730215")
	in := inputs()
	if len(in) != 1 || !bytes.Equal(in[0], jpg) {
		t.Fatalf("tesseract got %d inputs, the first %d bytes, want the stored JPEG (%d bytes) unchanged", len(in), len(in[0]), len(jpg))
	}
	if a := args(); !strings.Contains(a[0], "--dpi 300") {
		t.Fatalf("arguments %q", a[0])
	}
	if res.Note != "" || len(res.Thumbnail) == 0 {
		t.Fatalf("note %q, thumbnail %d bytes", res.Note, len(res.Thumbnail))
	}
}

// TestOCRSkipsPageWithTextLayer: a scan that carries a text layer is read from the layer;
// tesseract is never run.
func TestOCRSkipsPageWithTextLayer(t *testing.T) {
	r, inputs, _ := recordingOCR(t)
	doc := testdocs.ScanPDF(scanOf("Words only in the pixels"), testdocs.ScanOptions{TextLayer: []string{"Layer says rent contract 2026"}})
	res := mustRead(t, r, "pdf", doc)
	wantWords(t, res.Text, "rent contract 2026")
	if strings.Contains(res.Text, "pixels") || len(inputs()) != 0 {
		t.Fatalf("OCR ran on a page with a text layer: %q, %d runs", res.Text, len(inputs()))
	}
}

// TestOCRReadsNonJPEGScanUncompressed: a deflated scan goes to tesseract as its decoded
// pixels in a PGM of the image's own size, and its words are found.
func TestOCRReadsNonJPEGScanUncompressed(t *testing.T) {
	r, inputs, _ := recordingOCR(t)
	doc := testdocs.ScanPDF(scanOf("Pension statement", "Reference 4410"), testdocs.ScanOptions{Flate: true})
	res := mustRead(t, r, "pdf", doc)
	wantWords(t, res.Text, "Pension statement", "4410")
	in := inputs()
	if head := "P5\n1400 900\n255\n"; len(in) != 1 || !bytes.HasPrefix(in[0], []byte(head)) || len(in[0]) != len(head)+1400*900 {
		t.Fatalf("tesseract input %.20q (%d bytes), want a 1400×900 PGM", in[0], len(in[0]))
	}
}

// TestOCRScanResolution: a scan near the OCR resolution is read as stored, with its own
// resolution for tesseract; one far below or above it is rendered at the OCR resolution.
func TestOCRScanResolution(t *testing.T) {
	img := scanOf("resolution")
	for _, tc := range []struct {
		dpi     int
		source  string
		wantDPI int
	}{{200, content.SourceEmbeddedJPEG, 200}, {300, content.SourceEmbeddedJPEG, 300}, {600, content.SourceEmbeddedJPEG, 600},
		{100, content.SourceRender, 300}, {1200, content.SourceRender, 300}} {
		doc := testdocs.ScanPDF(img, testdocs.ScanOptions{DPI: tc.dpi})
		d, err := pdfium.Open(context.Background(), bytes.NewReader(doc), int64(len(doc)))
		if err != nil {
			t.Fatal(err)
		}
		pi, err := d.OCRImage(0, 300)
		d.Close()
		if err != nil || pi.Source != tc.source || pi.DPI != tc.wantDPI {
			t.Fatalf("%d dpi scan: %v, source %q at %d dpi, want %q at %d", tc.dpi, err, pi.Source, pi.DPI, tc.source, tc.wantDPI)
		}
	}
}

// TestOCRRendersPagesThatAreMoreThanAScan: a page with a drawing beside its image, a
// rotated page, a scan far below the OCR resolution and a JPEG stream whose headers
// disagree with the PDF are rendered by PDFium (an uncompressed grey page at 300 dpi).
func TestOCRRendersPagesThatAreMoreThanAScan(t *testing.T) {
	img := scanOf("Framed tax notice", "Number 99812")
	other := testdocs.JPEG(testdocs.Scan(700, 450, 12, "x"), 85) // a valid JPEG of another size
	cases := map[string][]byte{
		"frame":          testdocs.ScanPDF(img, testdocs.ScanOptions{Frame: true}),
		"rotated":        testdocs.ScanPDF(img, testdocs.ScanOptions{Rotate: 90}),
		"wrong-size":     testdocs.ScanPDF(img, testdocs.ScanOptions{JPEG: other}),
		"not-a-jpeg":     testdocs.ScanPDF(img, testdocs.ScanOptions{JPEG: []byte("\xff\xd8\xff garbage")}),
		"damaged-stream": testdocs.ScanPDF(img, testdocs.ScanOptions{JPEG: testdocs.JPEG(img, 85)[:600]}),
	}
	for name, doc := range cases {
		d, err := pdfium.Open(context.Background(), bytes.NewReader(doc), int64(len(doc)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pi, err := d.OCRImage(0, 300)
		d.Close()
		if name == "damaged-stream" {
			// Its headers are right: it is read as stored, and the Reader falls back to a
			// render if tesseract cannot decode it (below).
			if err != nil || pi.Source != content.SourceEmbeddedJPEG {
				t.Fatalf("%s: %v %q", name, err, pi.Source)
			}
			continue
		}
		if err != nil || pi.Source != content.SourceRender || !bytes.HasPrefix(pi.Data, []byte("P5\n")) {
			t.Fatalf("%s: %v, source %q, %.10q", name, err, pi.Source, pi.Data)
		}
	}
	r, inputs, _ := recordingOCR(t)
	res := mustRead(t, r, "pdf", cases["frame"])
	wantWords(t, res.Text, "tax notice", "99812")
	if in := inputs(); len(in) != 1 || !bytes.HasPrefix(in[0], []byte("P5\n1400 ")) { // 300 dpi, give or take PDFium's rounding
		t.Fatalf("tesseract input of the framed page: %d runs, %.20q", len(in), in[0])
	}
	// A damaged stream is a page with less text, never a failed document.
	if _, err := r.Read(context.Background(), "pdf", bytes.NewReader(cases["damaged-stream"]), int64(len(cases["damaged-stream"]))); err != nil {
		t.Fatalf("damaged JPEG stream: %v", err)
	}
}

// TestOCRUploadsGoAsUploaded: PNG and JPEG uploads reach tesseract byte for byte; a BMP
// and a grey TIFF (not every tesseract reads those) go as an uncompressed PPM and PGM. All
// are read.
func TestOCRUploadsGoAsUploaded(t *testing.T) {
	r, inputs, _ := recordingOCR(t)
	img := scanOf("Parking fine", "Plate KA 3141")
	var pngb, bmpb, tiffb bytes.Buffer
	if err := tiff.Encode(&tiffb, img, &tiff.Options{Compression: tiff.Deflate}); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pngb, img); err != nil {
		t.Fatal(err)
	}
	if err := bmp.Encode(&bmpb, img); err != nil {
		t.Fatal(err)
	}
	jpg := testdocs.JPEG(img, 90)
	for _, doc := range [][]byte{pngb.Bytes(), jpg, bmpb.Bytes(), tiffb.Bytes()} {
		wantWords(t, mustRead(t, r, "image", doc).Text, "Parking fine", "3141")
	}
	in := inputs()
	if len(in) != 4 || !bytes.Equal(in[0], pngb.Bytes()) || !bytes.Equal(in[1], jpg) {
		t.Fatalf("%d inputs; PNG as uploaded %v, JPEG as uploaded %v", len(in), bytes.Equal(in[0], pngb.Bytes()), bytes.Equal(in[1], jpg))
	}
	if head := "P6\n1400 900\n255\n"; !bytes.HasPrefix(in[2], []byte(head)) || len(in[2]) != len(head)+3*1400*900 {
		t.Fatalf("BMP reached tesseract as %.20q (%d bytes)", in[2], len(in[2]))
	}
	if head := "P5\n1400 900\n255\n"; !bytes.HasPrefix(in[3], []byte(head)) || len(in[3]) != len(head)+1400*900 {
		t.Fatalf("TIFF reached tesseract as %.20q (%d bytes)", in[3], len(in[3]))
	}
}

// TestOCRHangingCommand: a tesseract that never answers ends the document at the OCR
// timeout with a retryable OCR error, and the next document is read.
func TestOCRHangingCommand(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "tesseract-hangs")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 60\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	o, err := content.FindOCR("on", script, "eng")
	if err != nil {
		t.Fatal(err)
	}
	r := reader(t, false)
	r.OCR, r.OCRTimeout = o, 300*time.Millisecond
	img := scanOf("never read")
	for _, tc := range []struct {
		kind string
		doc  []byte
	}{{"pdf", testdocs.ImagePDF(img)}, {"image", testdocs.JPEG(img, 80)}} {
		start := time.Now()
		_, err := r.Read(context.Background(), tc.kind, bytes.NewReader(tc.doc), int64(len(tc.doc)))
		var oe *content.OCRError
		if !errors.As(err, &oe) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 20*time.Second {
			t.Fatalf("%s: %v after %v", tc.kind, err, time.Since(start))
		}
	}
	doc := testdocs.TextPDF([]string{"still reading"})
	wantWords(t, mustRead(t, r, "pdf", doc).Text, "still reading")
}

// TestOCRFallsBackToRenderWhenJPEGUnreadable: when tesseract cannot read a page's stored
// JPEG, the page is rendered and read again, and its words are found.
func TestOCRFallsBackToRenderWhenJPEGUnreadable(t *testing.T) {
	if _, err := exec.LookPath("tesseract"); err != nil {
		t.Skip("tesseract is not installed (scripts/test installs tesseract-ocr)")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "tesseract-without-jpeg")
	// Keeps each input; refuses JPEGs (as a build without libjpeg would), reads the rest.
	body := fmt.Sprintf(`#!/bin/sh
f=%[1]q/in-$(ls %[1]q | grep -c '^in-')
cat > "$f"
if [ "$(head -c 2 "$f" | od -An -tx1 | tr -d ' ')" = ffd8 ]; then echo "unsupported image" >&2; exit 1; fi
shift; shift
exec tesseract "$f" stdout "$@"
`, dir)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	o, err := content.FindOCR("on", script, "eng")
	if err != nil {
		t.Fatal(err)
	}
	r := reader(t, false)
	r.OCR, r.OCRDPI = o, 300
	res := mustRead(t, r, "pdf", testdocs.ImagePDF(scanOf("Insurance renewal", "Contract 66017")))
	wantWords(t, res.Text, "Insurance renewal", "66017")
	first, err1 := os.ReadFile(filepath.Join(dir, "in-0"))
	second, err2 := os.ReadFile(filepath.Join(dir, "in-1"))
	if err1 != nil || err2 != nil || !bytes.HasPrefix(first, []byte{0xFF, 0xD8}) || !bytes.HasPrefix(second, []byte("P5\n")) {
		t.Fatalf("inputs: %v %v, first %.4q, second %.4q", err1, err2, first, second)
	}
}
