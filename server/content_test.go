package server_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/classify"
	"github.com/docuvault/docuvault/content"
	"github.com/docuvault/docuvault/internal/testdocs"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// testPDFium is shared by this package's tests; its compilation cache outlives the run.
var testPDFium = content.NewPDFium(filepath.Join(os.TempDir(), "docuvault-test-pdfium-cache"), 4)

// tesseract finds the OCR command, or skips (fails under CI=true) without it.
func tesseract(t *testing.T) *content.OCR {
	t.Helper()
	if _, err := exec.LookPath("tesseract"); err != nil {
		testenv.Missing(t, "tesseract (Debian package tesseract-ocr)", "PATH")
	}
	o, err := content.FindOCR("on", "tesseract", "eng")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// withContentPool runs a classification pool that reads PDFs and images (OCR when ocr is
// given) and serves e through it.
func withContentPool(t *testing.T, e *env, ocr *content.OCR) *env {
	t.Helper()
	reader := &content.Reader{PDF: testPDFium, OCR: ocr, OCRMaxPages: 5, OCRTimeout: time.Minute, OCRDPI: 300, MaxPDFBytes: 50 << 20, MaxChars: 100_000}
	pool := classify.New(classify.Config{Workers: 2, PollInterval: 50 * time.Millisecond, Timeout: 2 * time.Minute, Lease: 3 * time.Minute,
		Logger: e.opts.Logger, Content: reader}, e.store, e.blobs, nil)
	e = e.withQueue(pool)
	pool.Start()
	t.Cleanup(func() { _ = pool.Stop(context.Background()) })
	return e
}

func topicNames(d map[string]any) []string {
	var names []string
	ts, _ := d["topics"].([]any)
	for _, t := range ts {
		names = append(names, t.(map[string]any)["name"].(string))
	}
	return names
}

// TestScansSearchableAndClassified: a phone photo (JPEG) and a scanned letter (an
// image-only PDF), uploaded through the three steps, are read by OCR, found by their
// words, classified by them (their names say nothing), and get a 400 px thumbnail.
func TestScansSearchableAndClassified(t *testing.T) {
	ocr := tesseract(t)
	forEachCombination(t, func(t *testing.T, e *env) {
		e = withContentPool(t, e, ocr)
		admin := e.admin("root")
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Energy", "description": "electricity meter kilowatt"}, 201)
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Health", "description": "dentist doctor prescription"}, 201)
		alice, bob := e.member("alice"), e.member("bob")

		photo := testdocs.JPEG(testdocs.Scan(1400, 500, 12, "Electricity meter reading", "Kilowatt hours 4711"), 90)
		scan := testdocs.ImagePDF(testdocs.Scan(1400, 500, 12, "Dentist appointment", "Prescription for Alice"))
		photoID := uploadBytes(t, alice, "IMG_0001.jpg", "image/jpeg", photo)
		scanID := uploadBytes(t, alice, "scan-0002.pdf", "application/pdf", scan)
		for id, want := range map[string]string{photoID: "Energy", scanID: "Health"} {
			d := waitDocument(t, alice, id, classified)
			if d["status"] != "classified" || d["has_thumbnail"] != true {
				t.Fatalf("document %v", d)
			}
			if names := topicNames(d); len(names) == 0 || names[0] != want {
				t.Fatalf("%s classified as %v, want %s", id, names, want)
			}
		}
		for q, id := range map[string]string{"kilowatt": photoID, "prescription": scanID} {
			var found struct{ Items []map[string]any }
			alice.call("GET", "/api/documents?q="+q, nil, 200, &found)
			if len(found.Items) != 1 || found.Items[0]["id"] != id {
				t.Fatalf("search %q: %v", q, found.Items)
			}
			bob.call("GET", "/api/documents?q="+q, nil, 200, &found)
			if len(found.Items) != 0 {
				t.Fatalf("bob found alice's scan by %q", q)
			}
		}
		b := alice.call("GET", "/api/documents/"+scanID+"/text", nil, 200)
		if !strings.Contains(string(b), "Dentist appointment") {
			t.Fatalf("text of the scan: %q", b)
		}

		// Thumbnails: JPEG, 400 px wide, cacheable, the owner's only.
		resp := alice.request("GET", "/api/documents/"+photoID+"/thumbnail", nil)
		th, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || etag == "" {
			t.Fatalf("thumbnail: %d %v", resp.StatusCode, resp.Header)
		}
		img, err := jpeg.Decode(bytes.NewReader(th))
		if err != nil || img.Bounds().Dx() != 400 || img.Bounds().Dy() != 142 {
			t.Fatalf("thumbnail %v %v, want 400×142", err, img)
		}
		resp = alice.request("GET", "/api/documents/"+photoID+"/thumbnail", nil, "If-None-Match", etag)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", resp.StatusCode)
		}
		if code := bob.status("GET", "/api/documents/"+photoID+"/thumbnail", nil); code != 404 {
			t.Fatalf("bob's view of alice's thumbnail: %d", code)
		}
		if code := admin.status("GET", "/api/documents/"+photoID+"/thumbnail", nil); code != 403 {
			t.Fatalf("admin: %d", code)
		}

		// Thumbnails are not charged, and go with their document.
		q, _ := e.store.QuotaOf(context.Background(), alice.user.ID)
		if q.UsedBytes != int64(len(photo)+len(scan)) {
			t.Fatalf("used %d, want the two documents' %d", q.UsedBytes, len(photo)+len(scan))
		}
		d, _ := e.store.Document(context.Background(), alice.user.ID, photoID)
		alice.call("DELETE", "/api/documents/"+photoID, nil, 204)
		if _, err := e.blobs.Stat(context.Background(), store.ThumbKeyFor(d.ObjectKey)); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("thumbnail after delete: %v", err)
		}
	})
}

// TestScanWithoutOCR: without tesseract a scan is stored, thumbnailed and classified with
// an explicit note instead of a silent empty text; /readyz says OCR is off.
func TestScanWithoutOCR(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e = withContentPool(t, e, nil)
		alice := e.member("alice")
		id := uploadBytes(t, alice, "scan.pdf", "application/pdf", testdocs.ImagePDF(testdocs.Scan(600, 300, 10, "Hello")))
		d := waitDocument(t, alice, id, classified)
		note, _ := d["error"].(string)
		if d["status"] != "classified" || !strings.Contains(note, "no text: OCR not available") || d["has_thumbnail"] != true {
			t.Fatalf("document %v", d)
		}
		if code := alice.status("GET", "/api/documents/"+id+"/thumbnail", nil); code != 200 {
			t.Fatalf("thumbnail: %d", code)
		}
		// A text document has no thumbnail: 404, and has_thumbnail false.
		txt := uploadBytes(t, alice, "a.txt", "text/plain", []byte("plain words"))
		if d := waitDocument(t, alice, txt, classified); d["has_thumbnail"] != false {
			t.Fatalf("text document %v", d)
		}
		if code := alice.status("GET", "/api/documents/"+txt+"/thumbnail", nil); code != 404 {
			t.Fatalf("text document's thumbnail: %d", code)
		}
	})
}

// TestReadyzReportsOCR: /readyz tells whether OCR is available.
func TestReadyzReportsOCR(t *testing.T) {
	e := newEnv(t, "sqlite", "local", func(o *server.Options) { o.OCR = server.OCRStatus{Available: true, Languages: "eng+deu"} })
	b := e.anonymous().call("GET", "/readyz", nil, 200)
	if !strings.Contains(string(b), `"ocr":{"available":true,"languages":"eng+deu"}`) {
		t.Fatalf("readyz: %s", b)
	}
}

// TestBadPDFsFail: damaged and encrypted PDFs end in classification_failed at once, with
// a reason that says so, and are not retried.
func TestBadPDFsFail(t *testing.T) {
	good := testdocs.TextPDF([]string{"hello"})
	encrypted := bytes.Replace(good, []byte("/Root 1 0 R"), []byte("/Root 1 0 R /Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /O <00> /U <00> /P -4 >>"), 1)
	forEachDialect(t, func(t *testing.T, e *env) {
		e = withContentPool(t, e, nil)
		alice := e.member("alice")
		for name, tc := range map[string]struct {
			body []byte
			want string
		}{"damaged.pdf": {good[:len(good)/3], "unreadable PDF"}, "locked.pdf": {encrypted, "encrypted"}} {
			id := uploadBytes(t, alice, name, "application/pdf", tc.body)
			d := waitDocument(t, alice, id, classified)
			reason, _ := d["error"].(string)
			if d["status"] != "classification_failed" || !strings.Contains(reason, tc.want) {
				t.Fatalf("%s: %v", name, d)
			}
			doc, _ := e.store.Document(context.Background(), alice.user.ID, id)
			if doc.Attempts != 1 {
				t.Fatalf("%s: %d attempts, want 1 (not retried)", name, doc.Attempts)
			}
		}
	})
}
