package export

import (
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ManifestName is the manifest's place in an export; no document takes it.
const ManifestName = "manifest.json"

// maxNameBytes keeps entry names within what every file system accepts (255 bytes) with
// room for a " (12345)" suffix.
const maxNameBytes = 200

// names hands out entry names: each document under its own filename, made safe for any
// file system, and unique without regard to case (a zip unpacked on macOS or Windows must
// not overwrite one file with another).
type names struct {
	used map[string]bool
}

func newNames() *names {
	return &names{used: map[string]bool{strings.ToLower(ManifestName): true}}
}

// take returns a unique entry name for filename.
func (n *names) take(filename string) string {
	base := safeName(filename)
	ext := path.Ext(base)
	if len(ext) > 20 || ext == base {
		ext = ""
	}
	stem := strings.TrimSuffix(base, ext)
	name := base
	for i := 2; n.used[strings.ToLower(name)]; i++ {
		name = stem + " (" + strconv.Itoa(i) + ")" + ext
	}
	n.used[strings.ToLower(name)] = true
	return name
}

// safeName keeps a filename's last path element without control characters, path
// separators or a leading dot, shortened on a rune boundary to maxNameBytes.
func safeName(filename string) string {
	var b strings.Builder
	for _, r := range filename {
		switch {
		case r == '/' || r == '\\' || r == ':':
			b.WriteRune('_')
		case r == utf8.RuneError || unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	s := strings.Trim(b.String(), " .")
	if s == "" {
		s = "document"
	}
	if len(s) > maxNameBytes {
		ext := path.Ext(s)
		if len(ext) > 20 {
			ext = ""
		}
		cut := maxNameBytes - len(ext)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + ext
	}
	return s
}
