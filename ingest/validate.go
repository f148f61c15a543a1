package ingest

import (
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxContentType bounds the normalized media type, in bytes.
const MaxContentType = 255

// DefaultContentType is what a file with no declared or recognizable type is stored as.
const DefaultContentType = "application/octet-stream"

// ValidFilename refuses (KindInvalidName) what could not be a plain file name.
func ValidFilename(name string) error {
	switch {
	case name == "" || strings.TrimSpace(name) == "":
		return refuse(KindInvalidName, "filename must not be empty")
	case len(name) > 255:
		return refuse(KindInvalidName, "filename must be at most 255 bytes")
	case !utf8.ValidString(name) || strings.ContainsFunc(name, isControl):
		return refuse(KindInvalidName, "filename must not contain control characters")
	case strings.ContainsFunc(name, invisibleInName):
		return refuse(KindInvalidName, "filename must not contain bidi controls or invisible separators")
	case strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return refuse(KindInvalidName, "filename must not contain path separators")
	}
	return nil
}

func isControl(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }

// invisibleInName are characters that make a file name display differently from what it
// is: bidi embeddings, overrides and isolates (an "exe.pdf" that shows as "fdp.exe"),
// zero-width characters, marks, line and paragraph separators, and the byte order mark.
func invisibleInName(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200F, // zero-width space/joiners, LRM, RLM
		r >= 0x202A && r <= 0x202E, // bidi embeddings and overrides
		r >= 0x2066 && r <= 0x2069, // bidi isolates
		r == 0x2028, r == 0x2029,   // line and paragraph separators
		r == 0x061C, // Arabic letter mark
		r == 0x2060, // word joiner
		r == 0xFEFF: // byte order mark, zero-width no-break space
		return true
	}
	return false
}

// ContentType validates a declared media type against allowed (empty: any; "type/*"
// matches a whole family) and returns it normalized. "" is DefaultContentType.
// Refusals: KindInvalidType for a malformed type, KindTypeNotAccepted outside the list.
func ContentType(declared string, allowed []string) (string, error) {
	if declared == "" {
		return DefaultContentType, nil
	}
	mt, params, err := mime.ParseMediaType(declared)
	if err != nil {
		return "", refuse(KindInvalidType, "content_type is not a valid media type")
	}
	if !validMediaTypeShape(mt) {
		return "", refuse(KindInvalidType, "content_type must be type/subtype")
	}
	for k, v := range params {
		if !validText(k) || !validText(v) {
			return "", refuse(KindInvalidType, "content_type must be valid UTF-8 without NUL bytes")
		}
	}
	if len(allowed) > 0 {
		ok := false
		for _, a := range allowed {
			ok = ok || strings.EqualFold(a, mt) || (strings.HasSuffix(a, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(a, "*")))
		}
		if !ok {
			return "", refuse(KindTypeNotAccepted, "content type "+mt+" is not accepted here")
		}
	}
	ct := mime.FormatMediaType(mt, params)
	if ct == "" || len(ct) > MaxContentType {
		return "", refuse(KindInvalidType, "content_type must be a media type of at most 255 bytes")
	}
	return ct, nil
}

// GuessContentType names the type of a file from its name, else from its first bytes
// (head, up to 512), else DefaultContentType.
func GuessContentType(name string, head []byte) string {
	if ext := strings.ToLower(filepath.Ext(name)); ext != "" {
		if ct := mime.TypeByExtension(ext); ct != "" {
			return ct
		}
		if ct, ok := commonTypes[ext]; ok {
			return ct // not in every system's MIME table
		}
	}
	if len(head) > 0 {
		return http.DetectContentType(head)
	}
	return DefaultContentType
}

// commonTypes are document types a scanner or office suite writes that Go's built-in
// table lacks (containers without /etc/mime.types).
var commonTypes = map[string]string{
	".txt":  "text/plain; charset=utf-8",
	".md":   "text/markdown; charset=utf-8",
	".csv":  "text/csv; charset=utf-8",
	".tif":  "image/tiff",
	".tiff": "image/tiff",
	".heic": "image/heic",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
	".eml":  "message/rfc822",
}

// validMediaTypeShape tells whether mt is type/subtype made of RFC 2045 token characters.
func validMediaTypeShape(mt string) bool {
	typ, sub, ok := strings.Cut(mt, "/")
	return ok && isToken(typ) && isToken(sub)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7F || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// validText tells whether s can be stored as text by both databases.
func validText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
