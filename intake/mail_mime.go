package intake

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	_ "github.com/emersion/go-message/charset" // filenames and bodies in legacy charsets (ISO-8859-x, Windows-125x…)
	"github.com/emersion/go-message/mail"
)

// mailFile is one file a message carries: an attachment, or its text body when the
// account imports bodies. Body streams from the message; it is valid until the next part.
type mailFile struct {
	Ordinal     int // 0, 1, … in the order the message holds them: stable across retries
	Filename    string
	ContentType string // "" when the message does not say anything useful
	Body        io.Reader
}

// errMalformed marks a message whose MIME structure cannot be read: it is set aside, never
// retried.
var errMalformed = errors.New("malformed message")

// walkMessage reads a message from r and calls fn for each file in it, in order. Nested
// multiparts are walked through; base64 and quoted-printable bodies are decoded; RFC 2047
// and RFC 2231 filenames are decoded. A part counts as a file when its disposition is
// attachment, or when it has no disposition, is not text and is not referenced from the
// HTML (no Content-ID), or when it is inline but named and neither text nor an image
// (Apple Mail's inline PDFs). Inline images and the text and HTML alternatives are the
// message, not files. With body set, the first plain-text body becomes "<subject>.txt".
func walkMessage(r io.Reader, body bool, fn func(f mailFile) error) (messageID string, err error) {
	mr, err := mail.CreateReader(r)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errMalformed, err)
	}
	defer mr.Close()
	messageID, _ = mr.Header.MessageID()
	subject, _ := mr.Header.Subject()
	ordinal := 0
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return messageID, nil
		}
		if err != nil {
			return messageID, fmt.Errorf("%w: %v", errMalformed, err)
		}
		f, ok := fileOf(p, subject, body)
		if !ok {
			continue
		}
		if _, isText := p.Header.(*mail.InlineHeader); isText && f.Filename == "" {
			body = false // only the first text body
		}
		f.Ordinal, f.Body = ordinal, p.Body
		ordinal++
		if f.Filename == "" {
			f.Filename = fallbackName(f.Ordinal, f.ContentType)
		}
		if err := fn(f); err != nil {
			return messageID, err
		}
	}
}

// fileOf decides whether part p is a file, and names it.
func fileOf(p *mail.Part, subject string, body bool) (mailFile, bool) {
	switch h := p.Header.(type) {
	case *mail.AttachmentHeader:
		ct, _, _ := h.ContentType()
		disp, _, _ := h.ContentDisposition()
		name, _ := h.Filename()
		if disp == "" && h.Get("Content-Id") != "" && strings.HasPrefix(ct, "image/") {
			return mailFile{}, false // an image the HTML shows, not an attachment
		}
		return mailFile{Filename: cleanFilename(name), ContentType: usefulType(ct)}, true
	case *mail.InlineHeader:
		ct, _, _ := h.ContentType()
		_, params, _ := h.ContentDisposition()
		name := params["filename"]
		if name == "" {
			_, cp, _ := h.ContentType()
			name = cp["name"]
		}
		if name != "" && !strings.HasPrefix(ct, "text/") && !strings.HasPrefix(ct, "image/") {
			return mailFile{Filename: cleanFilename(name), ContentType: usefulType(ct)}, true
		}
		if body && name == "" && ct == "text/plain" {
			s := cleanFilename(subject)
			if s == "" {
				s = "message"
			}
			if len(s) > 200 {
				s = strings.ToValidUTF8(s[:200], "")
			}
			return mailFile{Filename: s + ".txt", ContentType: "text/plain"}, true
		}
	}
	return mailFile{}, false
}

// usefulType drops application/octet-stream (and unparsable types), so the ingest path
// guesses from the name and the first bytes instead.
func usefulType(ct string) string {
	if ct == "" || ct == "application/octet-stream" {
		return ""
	}
	return ct
}

// cleanFilename makes a sender's filename a plain file name: the last path element, no
// control characters, at most 255 bytes (the extension kept).
func cleanFilename(name string) string {
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(strings.TrimSpace(name), ".")
	if len(name) > 255 {
		ext := path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		cut := 255 - len(ext)
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + ext
	}
	return name
}

// fallbackName names an attachment its sender left unnamed.
func fallbackName(ordinal int, ct string) string {
	ext := ""
	if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
		ext = exts[0]
	}
	return fmt.Sprintf("attachment-%d%s", ordinal+1, ext)
}
