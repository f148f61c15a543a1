package classify

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/docuvault/docuvault/store"
)

// LabeledDoc is a document whose right topic is known.
type LabeledDoc struct {
	Filename string
	Text     string
	Topic    string // the candidate's name
}

// Corpus is a set of topics and labelled documents to evaluate the local classifier on.
type Corpus struct {
	Topics []Candidate
	Docs   []LabeledDoc
}

// maxCorpusFile bounds one file of a corpus folder.
const maxCorpusFile = 1 << 20

// LoadCorpus reads a folder with one subfolder per topic (its name is the topic's name; an
// optional file "_description" in it is the topic's description) holding that topic's
// documents as text files.
func LoadCorpus(dir string) (Corpus, error) {
	var c Corpus
	entries, err := os.ReadDir(dir)
	if err != nil {
		return c, fmt.Errorf("corpus: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		topic := Candidate{ID: e.Name(), Name: e.Name()}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return c, fmt.Errorf("corpus: %w", err)
		}
		for _, f := range files {
			if f.IsDir() || strings.HasPrefix(f.Name(), ".") {
				continue
			}
			b, err := readLimited(filepath.Join(dir, e.Name(), f.Name()))
			if err != nil {
				return c, fmt.Errorf("corpus: %w", err)
			}
			if f.Name() == "_description" {
				topic.Description = strings.TrimSpace(string(b))
				continue
			}
			c.Docs = append(c.Docs, LabeledDoc{Filename: f.Name(), Text: string(b), Topic: topic.Name})
		}
		c.Topics = append(c.Topics, topic)
	}
	if len(c.Topics) < 2 || len(c.Docs) == 0 {
		return c, fmt.Errorf("corpus: %s needs at least two topic folders with documents", dir)
	}
	return c, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxCorpusFile))
}

// Model is a user's learned counts held in memory: what the database keeps per user, for
// evaluations that train and test without one.
type Model struct {
	docs  map[string]int64
	terms map[string]int64
	count map[string]map[string]int64
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{docs: map[string]int64{}, terms: map[string]int64{}, count: map[string]map[string]int64{}}
}

// Learn adds a document labelled with topic IDs, as a manual topic change does in the store.
func (m *Model) Learn(filename, text string, topicIDs ...string) {
	terms := Terms(filename, text)
	for _, id := range topicIDs {
		m.docs[id]++
		for t, n := range terms {
			if m.count[t] == nil {
				m.count[t] = map[string]int64{}
			}
			m.count[t][id] += int64(n)
			m.terms[id] += int64(n)
		}
	}
}

// For returns the part of the model one document needs, as store.UserTopicModel does.
func (m *Model) For(filename, text string) store.TopicModel {
	out := store.TopicModel{Docs: m.docs, Terms: m.terms, Count: map[string]map[string]int64{}}
	for t := range Terms(filename, text) {
		if c := m.count[t]; c != nil {
			out.Count[t] = c
		}
	}
	return out
}

// Evaluation is how the local classifier did on a set of labelled documents.
type Evaluation struct {
	Documents int
	Top1      float64 // share of documents whose best-ranked topic is the right one
	// Assigned is the number of topics the policy assigned and Precision the share of them
	// that were right; Unassigned counts documents left with no topic ("needs a topic").
	Assigned   int
	Precision  float64
	Unassigned int
	PerTopic   map[string]TopicScore
	Confusion  map[[2]string]int // (right topic, best-ranked topic) → documents, mistakes only
	ByLanguage map[string]float64
}

// TopicScore is precision and recall of the best-ranked topic for one topic.
type TopicScore struct {
	Precision, Recall float64
	Support           int // documents labelled with the topic
}

// Fold is one split of a corpus: the documents to learn from first, then those to test.
type Fold struct {
	Train, Test []LabeledDoc
}

// KFold splits docs into k folds (document i goes to fold i mod k, in a per-topic order so
// every fold holds every topic); k = len(docs) is leave-one-out.
func KFold(docs []LabeledDoc, k int) []Fold {
	ordered := byTopic(docs)
	folds := make([]Fold, k)
	for i, d := range ordered {
		for f := range folds {
			if i%k == f {
				folds[f].Test = append(folds[f].Test, d)
			} else {
				folds[f].Train = append(folds[f].Train, d)
			}
		}
	}
	return folds
}

// FirstPerTopic learns from n documents per topic, spread over each topic's files in name
// order, and tests on the rest.
func FirstPerTopic(docs []LabeledDoc, n int) Fold {
	groups := map[string][]LabeledDoc{}
	for _, d := range byTopic(docs) {
		groups[d.Topic] = append(groups[d.Topic], d)
	}
	var f Fold
	for _, g := range groups {
		step := max(len(g)/max(n, 1), 1)
		taken := 0
		for i, d := range g {
			if taken < n && i%step == 0 {
				f.Train = append(f.Train, d)
				taken++
			} else {
				f.Test = append(f.Test, d)
			}
		}
	}
	return f
}

func byTopic(docs []LabeledDoc) []LabeledDoc {
	out := append([]LabeledDoc(nil), docs...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Filename < out[j].Filename
	})
	return out
}

// Evaluate trains a fresh model on each fold's Train documents, classifies its Test
// documents with Local and the policy, and sums up. language names each document's
// language for the per-language figures (nil: none).
func Evaluate(ctx context.Context, topics []Candidate, folds []Fold, policy Policy, language func(LabeledDoc) string) (Evaluation, error) {
	ev := Evaluation{PerTopic: map[string]TopicScore{}, Confusion: map[[2]string]int{}, ByLanguage: map[string]float64{}}
	right, predicted, support := map[string]int{}, map[string]int{}, map[string]int{}
	langRight, langAll := map[string]int{}, map[string]int{}
	correctAssigned := 0
	for _, fold := range folds {
		m := NewModel()
		for _, d := range fold.Train {
			m.Learn(d.Filename, d.Text, d.Topic)
		}
		for _, d := range fold.Test {
			req := Request{Filename: d.Filename, Text: d.Text, Candidates: topics}
			if len(fold.Train) > 0 {
				req.Learned = m.For(d.Filename, d.Text)
			}
			choices, err := Local{}.Classify(ctx, req)
			if err != nil {
				return ev, err
			}
			best := ""
			if len(choices) > 0 {
				best = choices[0].Name
			}
			ev.Documents++
			support[d.Topic]++
			predicted[best]++
			lang := ""
			if language != nil {
				lang = language(d)
				langAll[lang]++
			}
			if best == d.Topic {
				right[d.Topic]++
				langRight[lang]++
			} else {
				ev.Confusion[[2]string{d.Topic, best}]++
			}
			assign, _ := policy.Decide(choices)
			if len(assign) == 0 {
				ev.Unassigned++
			}
			for _, a := range assign {
				ev.Assigned++
				if a.Name == d.Topic {
					correctAssigned++
				}
			}
		}
	}
	total := 0
	for _, t := range topics {
		total += right[t.Name]
		s := TopicScore{Support: support[t.Name]}
		if predicted[t.Name] > 0 {
			s.Precision = float64(right[t.Name]) / float64(predicted[t.Name])
		}
		if support[t.Name] > 0 {
			s.Recall = float64(right[t.Name]) / float64(support[t.Name])
		}
		ev.PerTopic[t.Name] = s
	}
	if ev.Documents > 0 {
		ev.Top1 = float64(total) / float64(ev.Documents)
	}
	if ev.Assigned > 0 {
		ev.Precision = float64(correctAssigned) / float64(ev.Assigned)
	}
	for l, n := range langAll {
		ev.ByLanguage[l] = float64(langRight[l]) / float64(n)
	}
	return ev, nil
}

// Report writes an evaluation as the `classify eval` command prints it.
func (ev Evaluation) Report(w io.Writer) {
	fmt.Fprintf(w, "documents %d\ntop-1 accuracy %.1f%%\n", ev.Documents, 100*ev.Top1)
	fmt.Fprintf(w, "assigned topics %d, precision %.1f%%, documents left to the user (needs a topic) %d\n",
		ev.Assigned, 100*ev.Precision, ev.Unassigned)
	langs := make([]string, 0, len(ev.ByLanguage))
	for l := range ev.ByLanguage {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		fmt.Fprintf(w, "top-1 accuracy (%s) %.1f%%\n", l, 100*ev.ByLanguage[l])
	}
	names := make([]string, 0, len(ev.PerTopic))
	for n := range ev.PerTopic {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "\n%-24s %9s %9s %8s\n", "topic", "precision", "recall", "documents")
	for _, n := range names {
		s := ev.PerTopic[n]
		fmt.Fprintf(w, "%-24s %8.1f%% %8.1f%% %8d\n", clip(n, 24), 100*s.Precision, 100*s.Recall, s.Support)
	}
	type pair struct {
		k [2]string
		n int
	}
	var pairs []pair
	for k, n := range ev.Confusion {
		pairs = append(pairs, pair{k, n})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].n != pairs[j].n {
			return pairs[i].n > pairs[j].n
		}
		return pairs[i].k[0]+pairs[i].k[1] < pairs[j].k[0]+pairs[j].k[1]
	})
	fmt.Fprintf(w, "\nmost frequent mistakes (right topic → ranked first)\n")
	for i, p := range pairs {
		if i == 10 {
			break
		}
		got := p.k[1]
		if got == "" {
			got = "(none)"
		}
		fmt.Fprintf(w, "%4d  %s → %s\n", p.n, p.k[0], got)
	}
}
