package export

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNamesAreSafeAndUnique(t *testing.T) {
	n := newNames()
	got := []string{}
	for _, f := range []string{"a.pdf", "A.PDF", "a.pdf", "../../etc/passwd", `C:\x\y.txt`, "manifest.json", "",
		"nul\x00byte.txt", "...", ".bashrc", strings.Repeat("é", 300) + ".pdf", "noext", "noext"} {
		got = append(got, n.take(f))
	}
	want := []string{"a.pdf", "A (2).PDF", "a (3).pdf", "_.._etc_passwd", "C__x_y.txt", "manifest (2).json", "document",
		"nulbyte.txt", "document (2)", "bashrc", "", "noext", "noext (2)"}
	for i := range want {
		if i == 10 {
			if len(got[i]) > maxNameBytes || !utf8.ValidString(got[i]) || !strings.HasSuffix(got[i], ".pdf") {
				t.Errorf("long name: %q (%d bytes)", got[i], len(got[i]))
			}
			continue
		}
		if got[i] != want[i] {
			t.Errorf("name %d: %q, want %q", i, got[i], want[i])
		}
	}
}
