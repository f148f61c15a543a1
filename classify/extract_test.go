package classify

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func extract(t *testing.T, data []byte, ct, name string) (string, error) {
	t.Helper()
	return Extract(bytes.NewReader(data), int64(len(data)), ct, name, DefaultLimits)
}

func TestExtractFormats(t *testing.T) {
	cases := []struct {
		name, ct string
		data     []byte
		want     []string
		not      []string
	}{
		{"notes.txt", "text/plain", []byte("Quarterly   invoice\n\n\nfrom ACME"), []string{"Quarterly invoice\nfrom ACME"}, nil},
		{"readme.md", "", []byte("# Title\n\nSome *markdown* text"), []string{"# Title", "markdown"}, nil},
		{"table.csv", "text/csv", []byte("name,amount\nrent,1200\n"), []string{"rent,1200"}, nil},
		{"page.html", "text/html", []byte(`<html><head><title>T</title><style>.x{color:red}</style></head><body><h1>Tax return</h1><script>var secret=1;</script><p>Deductions &amp; credits</p><!-- hidden --></body></html>`),
			[]string{"Tax return", "Deductions & credits"}, []string{"secret", "color", "hidden"}},
		{"report.pdf", "application/pdf", makePDF("Annual medical report"), []string{"Annual medical report"}, nil},
		{"letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", makeDOCX("Dear landlord,", "the rent is paid."), []string{"Dear landlord,\nthe rent is paid."}, nil},
		{"minutes.odt", "", makeODT("Meeting minutes", "Budget approved"), []string{"Meeting minutes\nBudget approved"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := extract(t, tc.data, tc.ct, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("text %q lacks %q", got, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("text %q holds invisible %q", got, n)
				}
			}
		})
	}
}

func TestDecodeTextCharsets(t *testing.T) {
	utf16le := []byte{0xFF, 0xFE, 'H', 0, 'i', 0, 0xE9, 0}
	utf16be := []byte{0xFE, 0xFF, 0, 'H', 0, 'i', 0, 0xE9}
	for name, c := range map[string]struct {
		in   []byte
		want string
	}{
		"utf8":     {[]byte("Grüße"), "Grüße"},
		"utf8-bom": {append([]byte{0xEF, 0xBB, 0xBF}, "Grüße"...), "Grüße"},
		"utf16le":  {utf16le, "Hié"},
		"utf16be":  {utf16be, "Hié"},
		"latin1":   {[]byte{'G', 'r', 0xFC, 0xDF, 'e'}, "Grüße"},
		"cut-utf8": {[]byte("Grüße")[:3], "Gr"},
	} {
		if got := DecodeText(c.in); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}

func TestExtractUnsupportedAndCorrupt(t *testing.T) {
	if _, err := extract(t, []byte{0, 1, 2}, "image/png", "photo.png"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("png: %v", err)
	}
	for name, data := range map[string][]byte{
		"broken.pdf":  []byte("%PDF-1.4\n1 0 obj garbage"),
		"broken.docx": []byte("PK\x03\x04 not really a zip"),
		"empty.docx":  makeZip(map[string]string{"other.xml": "<x/>"}),
	} {
		if _, err := extract(t, data, "", name); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestExtractLimits(t *testing.T) {
	// A 50 MB text file: only MaxBytes are read and MaxChars kept.
	big := bytes.Repeat([]byte("invoice "), 50_000_000/8)
	start := time.Now()
	got, err := Extract(bytes.NewReader(big), int64(len(big)), "text/plain", "big.txt", Limits{MaxBytes: 1 << 20, MaxChars: 1000})
	if err != nil || len([]rune(got)) > 1000 {
		t.Fatalf("big text: %d chars, %v", len(got), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("big text took %v", d)
	}
	// A zip bomb: 1 GiB of zeros in document.xml compresses to about 1 MiB.
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(`<w:document xmlns:w="x"><w:body><w:p><w:t>`))
	zero := make([]byte, 1<<20)
	for i := 0; i < 1024; i++ {
		w.Write(zero)
	}
	zw.Close()
	start = time.Now()
	got, err = Extract(bytes.NewReader(b.Bytes()), int64(b.Len()), "", "bomb.docx", Limits{MaxBytes: 4 << 20, MaxChars: 1000})
	if len([]rune(got)) > 1000 {
		t.Fatalf("bomb produced %d chars", len(got))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("bomb took %v (err %v)", d, err)
	}
}

// FuzzExtract feeds arbitrary bytes to every extractor: none may panic or exceed its limits.
func FuzzExtract(f *testing.F) {
	f.Add([]byte("plain text"), "notes.txt")
	f.Add([]byte("<p>html</p><script>x</script>"), "a.html")
	f.Add(makePDF("seed pdf"), "a.pdf")
	f.Add(makeDOCX("seed docx"), "a.docx")
	f.Add(makeODT("seed odt"), "a.odt")
	f.Add([]byte{0xFF, 0xFE, 'a', 0}, "u16.txt")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		for _, ext := range []string{".txt", ".html", ".pdf", ".docx", ".odt"} {
			got, _ := Extract(bytes.NewReader(data), int64(len(data)), "", "f"+ext, Limits{MaxBytes: 1 << 20, MaxChars: 5000})
			if len([]rune(got)) > 5000 {
				t.Fatalf("%s: %d chars past the limit", ext, len([]rune(got)))
			}
		}
	})
}
