package classify

import (
	"context"
	"math"
	"sort"
	"strings"
	"unicode"
)

// Local is the offline classifier: it scores the document's words against each topic's name
// and description with BM25 and keeps the best topics above a threshold. Deterministic.
type Local struct{}

// BM25 parameters, and the score a topic needs.
const (
	bm25K1         = 1.2
	bm25B          = 0.5
	avgDocTokens   = 400.0
	maxDocTokens   = 2000.0 // longer documents are not penalized further
	localThreshold = 0.5
	nameWeight     = 3.0
)

// Classify scores every candidate and returns up to three, best first.
func (Local) Classify(_ context.Context, req Request) ([]Choice, error) {
	doc := tokenize(req.Text)
	tf := make(map[string]int, len(doc))
	for _, t := range doc {
		tf[t]++
	}
	// The file name is a strong hint: each of its words counts as a mention in the text.
	inName := map[string]bool{}
	for _, t := range tokenize(req.Filename) {
		inName[t] = true
	}
	dl := min(float64(len(doc)), maxDocTokens)
	// A term that names many topics tells less: weight by inverse topic frequency.
	df := map[string]int{}
	terms := make([]map[string]float64, len(req.Candidates))
	for i, c := range req.Candidates {
		terms[i] = map[string]float64{}
		for _, t := range tokenize(c.Name) {
			terms[i][t] += nameWeight
		}
		for _, t := range tokenize(c.Description) {
			terms[i][t]++
		}
		for t := range terms[i] {
			df[t]++
		}
	}
	n := float64(len(req.Candidates))
	type scored struct {
		name  string
		score float64
	}
	var out []scored
	for i, c := range req.Candidates {
		score := 0.0
		for t, w := range terms[i] {
			idf := 1 + math.Log(n/float64(df[t]))
			if inName[t] {
				score += w * idf
			}
			f := float64(tf[t])
			if f == 0 {
				continue
			}
			score += w * idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*dl/avgDocTokens))
		}
		if score >= localThreshold {
			out = append(out, scored{c.Name, score})
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].score != out[b].score {
			return out[a].score > out[b].score
		}
		return out[a].name < out[b].name
	})
	choices := []Choice{}
	for i, s := range out {
		if i == 3 {
			break
		}
		choices = append(choices, Choice{Name: s.name, Confidence: math.Round(1000*s.score/(s.score+localThreshold*2)) / 1000})
	}
	return choices, nil
}

// stopwords are too common to say anything about a topic (English; other languages pass).
var stopwords = map[string]bool{"the": true, "and": true, "for": true, "with": true, "that": true, "this": true,
	"are": true, "was": true, "from": true, "you": true, "your": true, "not": true, "all": true, "any": true, "but": true,
	"der": true, "die": true, "das": true, "und": true, "les": true, "des": true, "pdf": true, "txt": true, "doc": true, "docx": true}

// tokenize splits text into lowercase words of letters and digits (any script), drops
// stopwords and one-letter words, and strips common English endings so that "invoices" and
// "invoice" meet.
func tokenize(s string) []string {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := fields[:0]
	for _, f := range fields {
		if len([]rune(f)) < 2 || stopwords[f] {
			continue
		}
		out = append(out, stem(f))
	}
	return out
}

// stem removes a few English endings from Latin-script words (plural s, -ing, -ed); other
// words pass unchanged.
func stem(w string) string {
	if len(w) < 4 || w[len(w)-1] > unicode.MaxASCII {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ing") && len(w) > 5:
		return w[:len(w)-3]
	case strings.HasSuffix(w, "ed") && len(w) > 4:
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}
