package importer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// cleanName makes s a plain file name the vault accepts: separators become "-", control
// and invisible characters go, at most 200 bytes.
func cleanName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '/' || r == '\\':
			b.WriteRune('-')
		case r == utf8.RuneError || unicode.IsControl(r) || invisible(r):
		default:
			b.WriteRune(r)
		}
	}
	out := strings.TrimSpace(b.String())
	if out == "." || out == ".." {
		return ""
	}
	if len(out) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut]
	}
	return out
}

// invisible are the format characters that make a name display as something else.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029
}
