package store

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// SnippetTextChars is how much of a document's text (in characters, from its start) a search
// result's snippet is cut from: a page of results never reads more than this per document,
// whatever the documents' size. A match further in gives a snippet of the text's start.
const SnippetTextChars = 16384

// snippetTokens is about how many words a snippet shows: a few before the first match, the
// rest after it.
const (
	snippetBefore = 6
	snippetTokens = 30
)

// token is one word of a text: its bytes [start, end).
type token struct{ start, end int }

// tokens splits text into words (runs of letters and digits, as the indexes do).
func tokens(text string) []token {
	var out []token
	start := -1
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			out = append(out, token{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, token{start, len(text)})
	}
	return out
}

// folder lower-cases words and removes their diacritics, as the SQLite index's tokenizer
// does, so "Lisboa" and "lisbôa" mark alike. ASCII words, the common case, take a fast path
// without allocating.
type folder struct{ t transform.Transformer }

func newFolder() *folder {
	return &folder{transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)}
}

func isASCII(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (f *folder) fold(w string) string {
	if isASCII(w) {
		return strings.ToLower(w)
	}
	out, _, err := transform.String(f.t, strings.ToLower(w))
	if err != nil {
		return strings.ToLower(w)
	}
	return out
}

// match says whether the word tok is one of folded (or starts with the last, with prefix).
func (f *folder) match(tok string, folded []string, prefix bool) bool {
	if !isASCII(tok) {
		tok = f.fold(tok)
	}
	last := len(folded) - 1
	for i, w := range folded {
		if len(tok) == len(w) && strings.EqualFold(tok, w) ||
			prefix && i == last && len(tok) > len(w) && strings.EqualFold(tok[:len(w)], w) {
			return true
		}
	}
	return false
}

// snippet is an HTML fragment of text around its first match of words (the last one matched
// as the start of a word when prefix is set): the text is HTML-escaped first, then each
// matching word is wrapped in <mark>…</mark>, so a document's own markup ("<script>") is
// shown as text and never interpreted. Runs of white space become one space; "…" stands
// for text cut off at either end. No match in the text: its first words, unmarked.
func snippet(text string, words []string, prefix bool) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	f := newFolder()
	folded := make([]string, len(words))
	for i, w := range words {
		folded[i] = f.fold(w)
	}
	toks := tokens(text)
	if len(toks) == 0 {
		return ""
	}
	first := -1
	for i, t := range toks {
		if f.match(text[t.start:t.end], folded, prefix) {
			first = i
			break
		}
	}
	from := 0
	if first > snippetBefore {
		from = first - snippetBefore
	}
	to := min(len(toks), from+snippetTokens)
	var b strings.Builder
	if from > 0 {
		b.WriteString("… ")
	} else {
		b.WriteString(strings.TrimLeft(gap(text[:toks[0].start]), " "))
	}
	for i := from; i < to; i++ {
		if i > from {
			b.WriteString(gap(text[toks[i-1].end:toks[i].start]))
		}
		w := html.EscapeString(text[toks[i].start:toks[i].end])
		if i == first || i > first && first >= 0 && f.match(text[toks[i].start:toks[i].end], folded, prefix) {
			b.WriteString("<mark>" + w + "</mark>")
		} else {
			b.WriteString(w)
		}
	}
	if to < len(toks) {
		b.WriteString(" …")
	} else {
		b.WriteString(strings.TrimRight(gap(text[toks[to-1].end:]), " "))
	}
	return b.String()
}

// gap is the escaped text between two words, each run of white space made one space.
func gap(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return html.EscapeString(b.String())
}
