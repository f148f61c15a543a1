package classify

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxWords bounds the words of one document the classifiers read; the opening pages of a
// long document say what it is about.
const maxWords = 20_000

// maxTerms bounds the distinct terms one document teaches a user's model.
const maxTerms = 2_000

// analyzed is a document as the classifiers see it: its language, and its stemmed words
// without stop words (text first, then the file name's).
type analyzed struct {
	lang   string
	tokens []string
	name   []string // stemmed words of the file name alone
}

// splitWords lowercases s and splits it into words of letters and digits (any script),
// dropping one-letter words and the stop words of every language.
func splitWords(s string, limit int) []string {
	var out []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := strings.ToLower(s[start:end])
		start = -1
		if utf8.RuneCountInString(w) < 2 || anyStop[w] {
			return
		}
		out = append(out, w)
	}
	for i, r := range s {
		if len(out) >= limit {
			return out
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(s))
	return out
}

// detectWords splits s for the language detector, which needs the stop words.
func detectWords(s string) []string {
	fields := strings.FieldsFunc(strings.ToLower(clipBytes(s, 8*detectSample)), func(r rune) bool {
		return !unicode.IsLetter(r)
	})
	return fields
}

// clipBytes cuts s to at most n bytes on a character boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// analyze detects the language of a document and stems its words in it.
func analyze(c *cache, filename, text string) analyzed {
	lang := DetectLanguage(detectWords(text + " " + filename))
	a := analyzed{lang: lang}
	for _, w := range splitWords(text, maxWords) {
		a.tokens = append(a.tokens, c.stem(lang, w))
	}
	for _, w := range splitWords(filename, 64) {
		if w == "pdf" || w == "txt" || w == "doc" || w == "docx" || w == "odt" || w == "jpg" || w == "png" {
			continue // file extensions say nothing about the topic
		}
		s := c.stem(lang, w)
		a.name = append(a.name, s)
		a.tokens = append(a.tokens, s)
	}
	return a
}

// Terms is what a document teaches its owner's model: its stemmed terms with their counts,
// the most frequent maxTerms of them.
func Terms(filename, text string) map[string]int { return termsOf(nil, filename, text) }

// termsOf is Terms with the stems remembered in c (nil: none).
func termsOf(c *cache, filename, text string) map[string]int {
	a := analyze(c, filename, text)
	counts := map[string]int{}
	for _, t := range a.tokens {
		if !hasDigit(t) {
			counts[t]++
		}
	}
	if len(counts) <= maxTerms {
		return counts
	}
	keys := make([]string, 0, len(counts))
	for t := range counts {
		keys = append(keys, t)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	kept := make(map[string]int, maxTerms)
	for _, t := range keys[:maxTerms] {
		kept[t] = counts[t]
	}
	return kept
}

// hasDigit tells whether a word holds a digit: amounts, dates, numbers of invoices and
// accounts differ from one document to the next and teach a model nothing but noise.
func hasDigit(w string) bool {
	return strings.IndexFunc(w, unicode.IsDigit) >= 0
}
