package classify

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
	"golang.org/x/net/html"
)

// Limits bound text extraction, whatever the file holds.
type Limits struct {
	MaxBytes int64 // read at most this much of the object (and of any member of an archive)
	MaxChars int   // keep at most this many characters of text
}

// DefaultLimits read 20 MiB and keep 100,000 characters.
var DefaultLimits = Limits{MaxBytes: 20 << 20, MaxChars: 100_000}

// ErrUnsupported means the format has no extractor; the document is classified by its name.
var ErrUnsupported = errors.New("no text extractor for this file type")

// kind picks the extractor from the media type, then the file extension.
func kind(contentType, filename string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "text/plain", "text/markdown", "text/x-markdown":
		return "text"
	case "text/csv":
		return "text"
	case "text/html", "application/xhtml+xml":
		return "html"
	case "application/pdf":
		return "pdf"
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		return "docx"
	case "application/vnd.oasis.opendocument.text":
		return "odt"
	}
	switch strings.ToLower(path.Ext(filename)) {
	case ".txt", ".md", ".markdown", ".csv", ".log", ".text":
		return "text"
	case ".html", ".htm", ".xhtml":
		return "html"
	case ".pdf":
		return "pdf"
	case ".docx":
		return "docx"
	case ".odt":
		return "odt"
	}
	if strings.HasPrefix(mt, "text/") {
		return "text"
	}
	return ""
}

// Extract reads the text of a document, within limits. r must support ReaderAt for the
// archive and PDF formats; size is the object's size.
func Extract(r io.ReaderAt, size int64, contentType, filename string, lim Limits) (string, error) {
	if size > lim.MaxBytes {
		size = lim.MaxBytes
	}
	sr := io.NewSectionReader(r, 0, size)
	var text string
	var err error
	switch kind(contentType, filename) {
	case "text":
		var b []byte
		if b, err = io.ReadAll(sr); err == nil {
			text = DecodeText(b)
		}
	case "html":
		text, err = extractHTML(sr)
	case "pdf":
		text, err = extractPDF(sr, size)
	case "docx":
		text, err = extractZipXML(sr, size, lim, "word/document.xml", "p")
	case "odt":
		text, err = extractZipXML(sr, size, lim, "content.xml", "p", "h")
	default:
		return "", ErrUnsupported
	}
	if err != nil {
		return "", err
	}
	return truncate(normalizeSpace(text), lim.MaxChars), nil
}

// ExtractContext is Extract bounded by ctx: once ctx ends, every read of r fails with
// ctx's error, so the extractors (which all read as they go) return instead of working on.
func ExtractContext(ctx context.Context, r io.ReaderAt, size int64, contentType, filename string, lim Limits) (string, error) {
	text, err := Extract(ctxReaderAt{ctx: ctx, r: r}, size, contentType, filename, lim)
	if ctx.Err() != nil {
		return "", fmt.Errorf("text extraction: %w", context.Cause(ctx))
	}
	return text, err
}

// ctxReaderAt refuses to read once its context has ended.
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}

// DecodeText turns bytes into text: UTF-16 with a BOM, UTF-8 (BOM dropped), else Latin-1.
func DecodeText(b []byte) string {
	switch {
	case len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE:
		return decodeUTF16(b[2:], false)
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		return decodeUTF16(b[2:], true)
	case len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF:
		b = b[3:]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	// A cut in the middle of a UTF-8 sequence at the read limit is still UTF-8.
	if trimmed := trimPartialRune(b); utf8.Valid(trimmed) {
		return string(trimmed)
	}
	runes := make([]rune, len(b))
	for i, c := range b {
		runes[i] = rune(c)
	}
	return string(runes)
}

func trimPartialRune(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			return b[:len(b)-i]
		}
	}
	return b
}

func decodeUTF16(b []byte, bigEndian bool) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(u))
}

// extractHTML keeps the visible text: no tags, scripts, styles or comments.
func extractHTML(r io.Reader) (string, error) {
	z := html.NewTokenizer(r)
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return b.String(), nil
			}
			return b.String(), z.Err()
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "head":
				skip++
			case "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "head":
				if skip > 0 {
					skip--
				}
			}
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
				b.WriteByte(' ')
			}
		}
	}
}

// extractPDF reads the text of each page; a corrupt PDF is an error, never a panic.
func extractPDF(r io.ReaderAt, size int64) (text string, err error) {
	defer func() {
		if p := recover(); p != nil {
			text, err = "", fmt.Errorf("unreadable PDF: %v", p)
		}
	}()
	doc, err := pdf.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("unreadable PDF: %w", err)
	}
	var b strings.Builder
	for i := 1; i <= doc.NumPage(); i++ {
		p := doc.Page(i)
		if p.V.IsNull() {
			continue
		}
		t, err := p.GetPlainText(nil)
		if err != nil {
			return "", fmt.Errorf("unreadable PDF page %d: %w", i, err)
		}
		b.WriteString(t)
		b.WriteByte('\n')
		if b.Len() > 4*DefaultLimits.MaxChars {
			break
		}
	}
	return b.String(), nil
}

// extractZipXML reads one XML member of a zip (DOCX, ODT) and keeps its character data,
// with a line break after each paragraph element. The member is read through a limit, so a
// zip bomb costs at most lim.MaxBytes.
func extractZipXML(r io.ReaderAt, size int64, lim Limits, member string, paragraphs ...string) (string, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("unreadable archive: %w", err)
	}
	var f *zip.File
	for _, zf := range zr.File {
		if zf.Name == member {
			f = zf
			break
		}
	}
	if f == nil {
		return "", fmt.Errorf("unreadable document: %s missing", member)
	}
	rc, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("unreadable document: %w", err)
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, lim.MaxBytes))
	dec.Strict = false
	var b strings.Builder
	for b.Len() < 4*lim.MaxChars {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if b.Len() > 0 {
				break // keep what was read before the limit or the damage
			}
			return "", fmt.Errorf("unreadable document: %w", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(bytes.TrimRight(t, "\x00"))
		case xml.EndElement:
			for _, p := range paragraphs {
				if t.Name.Local == p {
					b.WriteByte('\n')
				}
			}
		case xml.StartElement:
			if t.Name.Local == "tab" || t.Name.Local == "s" {
				b.WriteByte(' ')
			}
		}
	}
	return b.String(), nil
}

// normalizeSpace folds runs of blanks, keeping single line breaks, and drops control characters.
func normalizeSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space, newline := false, false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			newline = true
		case r == ' ' || r == '\t' || r == '\u00a0' || r == '\f' || r == '\v':
			space = true
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			space = true
		default:
			if b.Len() > 0 {
				if newline {
					b.WriteByte('\n')
				} else if space {
					b.WriteByte(' ')
				}
			}
			space, newline = false, false
			b.WriteRune(r)
		}
	}
	return b.String()
}

// truncate keeps at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
