package store

import (
	"html"
	"strings"
	"unicode"

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

// fold lower-cases w and removes its diacritics, as the SQLite index's tokenizer does, so
// "Lisboa" and "lisbôa" mark alike.
func fold(w string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToLower(w))
	if err != nil {
		return strings.ToLower(w)
	}
	return out
}

// snippet is an HTML fragment of text around its first match of words (the last one matched
// as the start of a word when prefix is set): the text is HTML-escaped first, then each
// matching word is wrapped in <mark>…</mark>, so a document's own markup ("<script>") is
// shown as text and never interpreted. Runs of white space become one space; "…" stands
// for text cut off at either end. No match in the text: its first words, unmarked.
func snippet(text string, words []string, prefix bool) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	folded := make([]string, len(words))
	for i, w := range words {
		folded[i] = fold(w)
	}
	matches := func(tok string) bool {
		f := fold(tok)
		for i, w := range folded {
			if f == w || (prefix && i == len(folded)-1 && strings.HasPrefix(f, w)) {
				return true
			}
		}
		return false
	}
	toks := tokens(text)
	if len(toks) == 0 {
		return ""
	}
	marked := make([]bool, len(toks))
	first := -1
	for i, t := range toks {
		if marked[i] = matches(text[t.start:t.end]); marked[i] && first < 0 {
			first = i
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
		if marked[i] {
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
