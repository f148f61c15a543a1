package classify

import (
	"math"

	"github.com/docuvault/docuvault/store"
)

// Naive Bayes over one user's corrections, with each topic's name and description as
// pseudo-documents so that a topic nobody has corrected yet stays reachable.
const (
	nbAlpha = 0.1 // additive smoothing per term
	// nbVocabulary is the vocabulary size the smoothing assumes: a user's vocabulary is not
	// counted on every document (that would scan the model), and the exact size barely matters.
	nbVocabulary = 50_000
	// nbPriorWeight is how many occurrences one word of a topic's name or description is worth.
	nbPriorWeight = 2.0
	// nbTemperature flattens the posterior per known word of the document: naive Bayes
	// multiplies evidence as if words were independent and so is far too sure of itself.
	nbTemperature = 0.6
	// learnedHalf is how many corrected documents make the learned model weigh as much as
	// the names and descriptions.
	learnedHalf = 60.0
)

// learnedPosterior is the learned model's distribution over the candidates and its weight
// (0–1, growing with the corrections it has seen), or nil when the user corrected nothing.
func learnedPosterior(a analyzed, profiles []profile, candidates []Candidate, m store.TopicModel) (float64, []float64) {
	total := int64(0)
	for _, c := range candidates {
		total += max(m.Docs[c.ID], 0)
	}
	if total == 0 {
		return 0, nil
	}
	tf := map[string]float64{}
	for _, t := range a.tokens {
		if !hasDigit(t) {
			tf[t]++
		}
	}
	logp := make([]float64, len(candidates))
	known := 0.0
	for t, f := range tf {
		seen := m.Count[t] != nil
		for _, p := range profiles {
			if p[t] > 0 {
				seen = true
				break
			}
		}
		if !seen {
			continue // a word no topic has seen shifts every topic alike; leave it out
		}
		known += f
		for i, c := range candidates {
			n := float64(max(m.Count[t][c.ID], 0)) + nbPriorWeight*profiles[i][t]
			logp[i] += f * math.Log(n+nbAlpha)
		}
	}
	if known == 0 {
		return 0, nil
	}
	k := float64(len(candidates))
	for i, c := range candidates {
		size := float64(max(m.Terms[c.ID], 0))
		for _, w := range profiles[i] {
			size += nbPriorWeight * w
		}
		logp[i] -= known * math.Log(size+nbAlpha*nbVocabulary)
		// How often the user picks a topic is part of the evidence, smoothed towards uniform.
		logp[i] += math.Log((float64(max(m.Docs[c.ID], 0)) + 1) / (float64(total) + k))
		logp[i] *= nbTemperature / math.Sqrt(known)
	}
	post := softmax(logp, 1)
	return float64(total) / (float64(total) + learnedHalf), post
}
