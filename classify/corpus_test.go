package classify

import (
	"context"
	"strings"
	"testing"
)

// corpusLanguage is the language a corpus file is written in, by its name ("de-03.txt").
func corpusLanguage(d LabeledDoc) string { return strings.SplitN(d.Filename, "-", 2)[0] }

func loadTestCorpus(t testing.TB) Corpus {
	t.Helper()
	c, err := LoadCorpus("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Docs) < 200 || len(c.Topics) < 12 {
		t.Fatalf("corpus has %d documents over %d topics", len(c.Docs), len(c.Topics))
	}
	return c
}

// TestCorpusGoals holds the local classifier to its published figures on the labelled
// corpus: cold from names and descriptions, then after 5 corrections per topic.
func TestCorpusGoals(t *testing.T) {
	c := loadTestCorpus(t)
	ctx := context.Background()
	cold, err := Evaluate(ctx, c.Topics, []Fold{{Test: c.Docs}}, DefaultPolicy, corpusLanguage)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	cold.Report(&b)
	t.Logf("cold start\n%s", b.String())
	learned, err := Evaluate(ctx, c.Topics, []Fold{FirstPerTopic(c.Docs, 5)}, DefaultPolicy, corpusLanguage)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	learned.Report(&b)
	t.Logf("after 5 corrections per topic\n%s", b.String())
	// Harder: corrections from one kind of document per topic and language (the corpus's
	// files 01–03 share a layout) must not hurt the others (files 04–09).
	var other Fold
	for _, d := range c.Docs {
		switch n := d.Filename[len(d.Filename)-6:]; {
		case n == "01.txt" || n == "02.txt" || d.Filename == "en-03.txt":
			other.Train = append(other.Train, d)
		case n != "03.txt":
			other.Test = append(other.Test, d)
		}
	}
	otherCold, err := Evaluate(ctx, c.Topics, []Fold{{Test: other.Test}}, DefaultPolicy, corpusLanguage)
	if err != nil {
		t.Fatal(err)
	}
	otherLearned, err := Evaluate(ctx, c.Topics, []Fold{other}, DefaultPolicy, corpusLanguage)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("corrections of other layouts: %d learned, %d tested: top-1 %.3f (cold %.3f), precision %.3f (cold %.3f)",
		len(other.Train), len(other.Test), otherLearned.Top1, otherCold.Top1, otherLearned.Precision, otherCold.Precision)
	if otherLearned.Top1 < otherCold.Top1 || otherLearned.Precision < 0.90 {
		t.Errorf("learning from other layouts hurt: top-1 %.3f (cold %.3f), precision %.3f",
			otherLearned.Top1, otherCold.Top1, otherLearned.Precision)
	}
	if cold.Top1 < 0.85 {
		t.Errorf("cold top-1 %.3f, want ≥ 0.85", cold.Top1)
	}
	if learned.Top1 < 0.92 {
		t.Errorf("learned top-1 %.3f, want ≥ 0.92", learned.Top1)
	}
	for name, ev := range map[string]Evaluation{"cold": cold, "learned": learned} {
		if ev.Precision < 0.90 {
			t.Errorf("%s: precision of assigned topics %.3f, want ≥ 0.90", name, ev.Precision)
		}
		if d := ev.ByLanguage["en"] - ev.ByLanguage["de"]; d > 0.05 || d < -0.05 {
			t.Errorf("%s: English %.3f, German %.3f: more than 5 points apart", name, ev.ByLanguage["en"], ev.ByLanguage["de"])
		}
	}
}
