package classify

import "sort"

// Policy decides which of a provider's ranked topics a document gets. Nothing assigned is
// better than a wrong topic: below MinConfidence the best topics are only suggested.
type Policy struct {
	MinConfidence float64 // the best topic needs at least this confidence (0–1)
	MaxTopics     int     // at most this many topics are assigned
	// Margin is how close (relative, 0–1) a further topic must come to the best one to be
	// assigned too: 0.8 = at least 80% of the best topic's confidence.
	Margin float64
}

// DefaultPolicy is the policy when the config says nothing.
var DefaultPolicy = Policy{MinConfidence: 0.45, MaxTopics: 3, Margin: 0.8}

// maxSuggestions is how many topics a document that needs one is offered.
const maxSuggestions = 3

// Decide splits choices (any order) into the topics to assign and, when none clears the
// threshold, the ones to suggest; both best first.
func (p Policy) Decide(choices []Choice) (assign, suggest []Choice) {
	ranked := append([]Choice(nil), choices...)
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].Confidence > ranked[j].Confidence })
	if len(ranked) == 0 {
		return nil, nil
	}
	best := ranked[0].Confidence
	if best < p.MinConfidence || p.MaxTopics <= 0 {
		return nil, ranked[:min(len(ranked), maxSuggestions)]
	}
	for _, c := range ranked {
		if len(assign) == p.MaxTopics || c.Confidence < p.MinConfidence || c.Confidence < p.Margin*best {
			break
		}
		assign = append(assign, c)
	}
	return assign, nil
}
