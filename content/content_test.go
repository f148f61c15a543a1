package content_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/content"
	"github.com/docuvault/docuvault/internal/testdocs"
)

// pdfium is shared by the tests of this package; its compilation cache outlives the run,
// so only the first run on a machine compiles the module.
var pdfium = content.NewPDFium(filepath.Join(os.TempDir(), "docuvault-test-pdfium-cache"), 2)

func reader(t *testing.T, ocr bool) *content.Reader {
	t.Helper()
	r := &content.Reader{PDF: pdfium, OCRMaxPages: 3, OCRTimeout: time.Minute, MaxPDFBytes: 50 << 20, MaxChars: 100_000}
	if ocr {
		o, err := content.FindOCR("on", "tesseract", "eng")
		if err != nil {
			if _, lerr := exec.LookPath("tesseract"); lerr != nil {
				t.Skip("tesseract is not installed (scripts/test installs tesseract-ocr)")
			}
			t.Fatal(err)
		}
		r.OCR = o
	}
	return r
}

func decodeThumb(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}
	return img
}

// TestPDFText reads the text layer of every page through PDFium and thumbnails page one.
func TestPDFText(t *testing.T) {
	doc := testdocs.TextPDF([]string{"Quarterly invoice", "Total due 1234 EUR"}, []string{"Second page about insurance"})
	res, err := reader(t, false).Read(context.Background(), "pdf", bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Quarterly invoice", "1234 EUR", "Second page about insurance"} {
		if !strings.Contains(res.Text, w) {
			t.Fatalf("text %q lacks %q", res.Text, w)
		}
	}
	if res.Note != "" {
		t.Fatalf("note %q for a PDF with text", res.Note)
	}
	th := decodeThumb(t, res.Thumbnail)
	// US Letter is 612×792 points: 400 px wide, 518 px high.
	if b := th.Bounds(); b.Dx() != content.ThumbnailWidth || b.Dy() < 510 || b.Dy() > 525 {
		t.Fatalf("thumbnail %v", b)
	}
}

// TestScannedPDFWithoutOCR: an image-only PDF gets a thumbnail and an explicit note.
func TestScannedPDFWithoutOCR(t *testing.T) {
	doc := testdocs.ImagePDF(testdocs.Scan(1240, 1754, 14, "Invoice number 4711"))
	res, err := reader(t, false).Read(context.Background(), "pdf", bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(res.Text) != "" || !strings.Contains(res.Note, "no text: OCR not available") {
		t.Fatalf("text %q note %q", res.Text, res.Note)
	}
	if b := decodeThumb(t, res.Thumbnail).Bounds(); b.Dx() != 400 || b.Dy() < 565 || b.Dy() > 567 {
		t.Fatalf("thumbnail %v, want 400×566 (A4)", b)
	}
}

// TestOCRScannedPDFAndPhoto recognises known sentences in an image-only PDF (rendered by
// PDFium at 300 dpi) and in a JPEG photo.
func TestOCRScannedPDFAndPhoto(t *testing.T) {
	r := reader(t, true)
	scan := testdocs.Scan(2480, 3508, 12, "Electricity invoice for March", "Customer number 883421")
	doc := testdocs.ImagePDF(scan)
	res, err := r.Read(context.Background(), "pdf", bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Electricity", "invoice", "883421"} {
		if !strings.Contains(res.Text, w) {
			t.Fatalf("OCR text %q lacks %q", res.Text, w)
		}
	}
	photo := testdocs.JPEG(testdocs.Scan(1600, 1200, 14, "Dental insurance claim", "Policy 55120"), 90)
	res, err = r.Read(context.Background(), "image", bytes.NewReader(photo), int64(len(photo)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Text, "Dental insurance claim") || !strings.Contains(res.Text, "55120") {
		t.Fatalf("OCR text of the photo: %q", res.Text)
	}
	if b := decodeThumb(t, res.Thumbnail).Bounds(); b.Dx() != 400 || b.Dy() != 300 {
		t.Fatalf("photo thumbnail %v", b)
	}
}

// TestBadPDFs: damaged, encrypted, empty and oversized PDFs are clear errors, never panics.
func TestBadPDFs(t *testing.T) {
	good := testdocs.TextPDF([]string{"hello"})
	encrypted := bytes.Replace(good, []byte("/Root 1 0 R"), []byte("/Root 1 0 R /Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /O <00> /U <00> /P -4 >>"), 1)
	cases := map[string]struct {
		doc  []byte
		want string
	}{
		"damaged":   {good[:len(good)/3], "unreadable PDF"},
		"garbage":   {[]byte("this is not a PDF at all"), "unreadable PDF"},
		"empty":     {nil, "unreadable PDF"},
		"encrypted": {encrypted, "encrypted"},
	}
	r := reader(t, false)
	for name, tc := range cases {
		_, err := r.Read(context.Background(), "pdf", bytes.NewReader(tc.doc), int64(len(tc.doc)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
	r.MaxPDFBytes = 10
	if _, err := r.Read(context.Background(), "pdf", bytes.NewReader(good), int64(len(good))); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("oversized: %v", err)
	}
}

// TestPDFDeadline: a document whose context has ended is refused, and PDFium still works
// for the next one.
func TestPDFDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	doc := testdocs.TextPDF([]string{"hello"})
	if _, err := reader(t, false).Read(ctx, "pdf", bytes.NewReader(doc), int64(len(doc))); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
	if _, err := reader(t, false).Read(context.Background(), "pdf", bytes.NewReader(doc), int64(len(doc))); err != nil {
		t.Fatalf("after a cancelled read: %v", err)
	}
}

// TestImages thumbnails every image format and refuses a decompression bomb by its header.
func TestImages(t *testing.T) {
	r := reader(t, false)
	img := testdocs.Scan(800, 1000, 10, "x")
	res, err := r.Read(context.Background(), "image", bytes.NewReader(testdocs.JPEG(img, 80)), 0)
	if err != nil || res.Note != "no text: OCR not available" {
		t.Fatalf("%v %q", err, res.Note)
	}
	if b := decodeThumb(t, res.Thumbnail).Bounds(); b.Dx() != 400 || b.Dy() != 500 {
		t.Fatalf("thumbnail %v", b)
	}
	// A PNG header claiming 100000×100000 pixels (a few bytes that would decode to 40 GB).
	ihdr := []byte("IHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00")
	bomb := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d"), ihdr...)
	bomb = binary.BigEndian.AppendUint32(bomb, crc32.ChecksumIEEE(ihdr))
	if _, err := r.Read(context.Background(), "image", bytes.NewReader(bomb), int64(len(bomb))); err == nil || !strings.Contains(err.Error(), "megapixels") {
		t.Fatalf("bomb: %v", err)
	}
	if _, err := r.Read(context.Background(), "image", bytes.NewReader([]byte("nope")), 4); err == nil {
		t.Fatal("garbage image read")
	}
}
