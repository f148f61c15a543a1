package classify

import (
	"context"
	"math"
	"sort"
)

// Local is the offline classifier. Cold, it scores the document's stemmed words against each
// topic's name and description with BM25 in the document's language; once the user has
// corrected documents (Request.Learned), a naive Bayes model of their own choices joins in.
// Deterministic.
type Local struct{}

// BM25 parameters and how the scores become confidences.
const (
	bm25K1       = 1.2
	bm25B        = 0.5
	avgDocTokens = 400.0
	maxDocTokens = 2000.0 // longer documents are not penalized further
	nameWeight   = 3.0
	// priorTemperature turns BM25 scores into a distribution over the topics: a topic that
	// leads by this many points is e times as likely.
	priorTemperature = 1.5
	// noneScore is the score of "none of these topics", the baseline a topic must beat:
	// with nothing in the text, no topic gets a confidence worth assigning.
	noneScore = 2.0
	// minChoice is the confidence below which a topic is not worth mentioning at all.
	minChoice = 0.05
	// maxChoices is how many topics Local returns (assigned and suggested together).
	maxChoices = 5
)

// Classify ranks every candidate and returns the likely ones, best first, with confidences
// that sum to at most 1.
func (Local) Classify(_ context.Context, req Request) ([]Choice, error) {
	if len(req.Candidates) == 0 {
		return []Choice{}, nil
	}
	a := analyze(req.Filename, req.Text)
	profiles := topicProfiles(a.lang, req.Candidates)
	conf := softmax(append(bm25Scores(a, profiles), noneScore), priorTemperature)[:len(profiles)]
	if w, learned := learnedPosterior(a, profiles, req.Candidates, req.Learned); learned != nil {
		for i := range conf {
			conf[i] = (1-w)*conf[i] + w*learned[i]
		}
	}
	order := make([]int, len(conf))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		if conf[order[x]] != conf[order[y]] {
			return conf[order[x]] > conf[order[y]]
		}
		return req.Candidates[order[x]].Name < req.Candidates[order[y]].Name
	})
	choices := []Choice{}
	for _, i := range order {
		if len(choices) == maxChoices || conf[i] < minChoice {
			break
		}
		choices = append(choices, Choice{Name: req.Candidates[i].Name, Confidence: math.Round(1000*conf[i]) / 1000})
	}
	return choices, nil
}

// profile is a topic's terms in one language: a word of its name weighs nameWeight, a word
// of its description 1. Repeating a word in a description does not make it weigh more, so
// a long description does not drown out a short one.
type profile map[string]float64

func topicProfiles(lang string, candidates []Candidate) []profile {
	out := make([]profile, len(candidates))
	for i, c := range candidates {
		p := profile{}
		for _, t := range stemAll(lang, c.Description) {
			p[t] = 1
		}
		for _, t := range stemAll(lang, c.Name) {
			p[t] = nameWeight
		}
		out[i] = p
	}
	return out
}

// bm25Scores scores the document against each profile. A term naming many topics tells
// less (inverse topic frequency); a word of the file name counts as one more mention.
func bm25Scores(a analyzed, profiles []profile) []float64 {
	df := map[string]int{}
	for _, p := range profiles {
		for t := range p {
			df[t]++
		}
	}
	tf := make(map[string]float64, len(a.tokens))
	for _, t := range a.tokens {
		tf[t]++
	}
	splitCompounds(tf, df, a.lang == German || a.lang == Dutch)
	inName := map[string]bool{}
	for _, t := range a.name {
		inName[t] = true
	}
	dl := min(float64(len(a.tokens)), maxDocTokens)
	n := float64(len(profiles))
	scores := make([]float64, len(profiles))
	for i, p := range profiles {
		for t, w := range p {
			idf := 1 + math.Log(n/float64(df[t]))
			if inName[t] {
				score := w * idf
				scores[i] += score
			}
			f := tf[t]
			if f == 0 {
				continue
			}
			scores[i] += w * idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*dl/avgDocTokens))
		}
	}
	return scores
}

// minCompoundPart is the shortest stem a compound word is split into.
const minCompoundPart = 5

// splitCompounds credits the parts of words a topic knows only in part: the longest known
// head of any word ("diagnosi" also counts as "diagnos", where the stemmer treats singular
// and plural apart), and in German and Dutch the longest known tail of a compound too
// ("stromrechnung" counts as "rechnung", "versicherungsnummer" as "versicher").
func splitCompounds(tf map[string]float64, vocab map[string]int, compounds bool) {
	extra := map[string]float64{}
	for w, f := range tf {
		if len(w) <= minCompoundPart {
			continue
		}
		if _, known := vocab[w]; known {
			continue
		}
		if compounds {
			for i := 3; i <= len(w)-minCompoundPart; i++ { // tails, longest first
				if _, ok := vocab[w[i:]]; ok && isBoundary(w, i) {
					extra[w[i:]] += f
					break
				}
			}
		}
		for i := len(w) - 1; i >= minCompoundPart; i-- { // heads, longest first
			if _, ok := vocab[w[:i]]; ok && isBoundary(w, i) {
				extra[w[:i]] += f
				break
			}
		}
	}
	for t, f := range extra {
		tf[t] += f
	}
}

// isBoundary tells whether byte i of w starts a character.
func isBoundary(w string, i int) bool { return i < len(w) && (w[i]&0xC0 != 0x80) }

// softmax turns scores into a distribution: exp(s/T) normalized.
func softmax(scores []float64, temperature float64) []float64 {
	out := make([]float64, len(scores))
	top := math.Inf(-1)
	for _, s := range scores {
		top = max(top, s)
	}
	sum := 0.0
	for i, s := range scores {
		out[i] = math.Exp((s - top) / temperature)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
