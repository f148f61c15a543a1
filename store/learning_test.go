package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// words counts a text's words: the tokenizer the store is given in these tests.
func words(filename, text string) map[string]int {
	out := map[string]int{}
	for _, w := range strings.Fields(text) {
		out[w]++
	}
	return out
}

// classifiedDoc uploads, claims and completes a document of u with text and the given
// provider topics.
func classifiedDoc(t *testing.T, s *store.Store, u store.User, text string, topics ...store.Assignment) store.Document {
	t.Helper()
	ctx := context.Background()
	j := claimedJobOf(t, s, u)
	if err := s.CompleteJob(ctx, j, text, topics, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Document(ctx, u.ID, j.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func mustTopic(t *testing.T, s *store.Store, owner *string, name string) store.Topic {
	t.Helper()
	tp, err := s.CreateTopic(context.Background(), owner, name, "")
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// TestTopicsBestFirstWithConfidenceAndSource: automatic topics come back by confidence,
// manual ones first with confidence 1; suggestions only while nothing is assigned.
func TestTopicsBestFirstWithConfidenceAndSource(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		a, b, c := mustTopic(t, s, nil, "Alpha"), mustTopic(t, s, nil, "Beta"), mustTopic(t, s, &u.ID, "Gamma")
		d := classifiedDoc(t, s, u, "x", store.Assignment{TopicID: a.ID, Confidence: 0.5}, store.Assignment{TopicID: b.ID, Confidence: 0.9})
		if len(d.Topics) != 2 || d.Topics[0].ID != b.ID || d.Topics[0].Confidence != 0.9 || d.Topics[0].Source != store.SourceAuto ||
			d.Topics[1].ID != a.ID || d.NeedsTopic() || len(d.Suggested) != 0 {
			t.Fatalf("auto topics %+v suggested %+v", d.Topics, d.Suggested)
		}
		n := classifiedDoc(t, s, u, "y", store.Assignment{TopicID: c.ID, Confidence: 0.3, Suggested: true},
			store.Assignment{TopicID: a.ID, Confidence: 0.35, Suggested: true})
		if !n.NeedsTopic() || len(n.Topics) != 0 || len(n.Suggested) != 2 || n.Suggested[0].ID != a.ID || n.Suggested[1].ID != c.ID {
			t.Fatalf("needs a topic: %+v %+v", n.Topics, n.Suggested)
		}
		// Confirming (setting topics) makes them manual, confidence 1, and clears the suggestions.
		ids := []string{c.ID}
		n, err := s.UpdateDocument(ctx, u.ID, n.ID, store.DocumentPatch{TopicIDs: &ids, Terms: words})
		if err != nil {
			t.Fatal(err)
		}
		if n.NeedsTopic() || len(n.Suggested) != 0 || len(n.Topics) != 1 || n.Topics[0].Source != store.SourceManual || n.Topics[0].Confidence != 1 {
			t.Fatalf("confirmed: %+v %+v", n.Topics, n.Suggested)
		}
	})
}

// TestReclassificationKeepsManualTopics: a requeued document's manual topics survive, and
// the provider's topics are not added beside them.
func TestReclassificationKeepsManualTopics(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		a, b := mustTopic(t, s, nil, "Alpha"), mustTopic(t, s, nil, "Beta")
		d := classifiedDoc(t, s, u, "x", store.Assignment{TopicID: a.ID, Confidence: 0.9})
		ids := []string{b.ID}
		if _, err := s.UpdateDocument(ctx, u.ID, d.ID, store.DocumentPatch{TopicIDs: &ids, Terms: words}); err != nil {
			t.Fatal(err)
		}
		if err := s.Requeue(ctx, u.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		j, err := s.ClaimNext(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteJob(ctx, j, "x", []store.Assignment{{TopicID: a.ID, Confidence: 0.99}}, nil); err != nil {
			t.Fatal(err)
		}
		got, err := s.Document(ctx, u.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Topics) != 1 || got.Topics[0].ID != b.ID || got.Topics[0].Source != store.SourceManual {
			t.Fatalf("after re-classification %+v", got.Topics)
		}
	})
}

// TestManualTopicsTeachOnlyTheirOwner: counts move with a change of topics (added to the new
// topic, taken from the old one) and another user's model stays empty.
func TestManualTopicsTeachOnlyTheirOwner(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		alice, bob := mustUser(t, s, "alice", store.RoleUser, 1<<20), mustUser(t, s, "bob", store.RoleUser, 1<<20)
		a, b := mustTopic(t, s, nil, "Alpha"), mustTopic(t, s, nil, "Beta")
		d := classifiedDoc(t, s, alice, "meter meter kwh")
		set := func(ids ...string) {
			t.Helper()
			if _, err := s.UpdateDocument(ctx, alice.ID, d.ID, store.DocumentPatch{TopicIDs: &ids, Terms: words}); err != nil {
				t.Fatal(err)
			}
		}
		terms := func() []string { return []string{"meter", "kwh", "a.txt", "absent"} }
		set(a.ID)
		set(a.ID) // the same choice again teaches nothing more
		m, err := s.UserTopicModel(ctx, alice.ID, terms)
		if err != nil {
			t.Fatal(err)
		}
		if m.Docs[a.ID] != 1 || m.Terms[a.ID] != 3 || m.Count["meter"][a.ID] != 2 || m.Count["kwh"][a.ID] != 1 || m.Count["absent"] != nil {
			t.Fatalf("after one correction %+v", m)
		}
		set(b.ID)
		m, err = s.UserTopicModel(ctx, alice.ID, terms)
		if err != nil {
			t.Fatal(err)
		}
		if m.Docs[a.ID] != 0 || m.Docs[b.ID] != 1 || m.Count["meter"][a.ID] != 0 || m.Count["meter"][b.ID] != 2 {
			t.Fatalf("after moving the document %+v", m)
		}
		var rows int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM topic_terms WHERE topic_id = $1`, a.ID).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("zero counts kept: %d %v", rows, err)
		}
		mb, err := s.UserTopicModel(ctx, bob.ID, terms)
		if err != nil || len(mb.Docs) != 0 || len(mb.Count) != 0 {
			t.Fatalf("bob's model %+v %v", mb, err)
		}
		// Bob cannot teach through Alice's document.
		ids := []string{a.ID}
		if _, err := s.UpdateDocument(ctx, bob.ID, d.ID, store.DocumentPatch{TopicIDs: &ids, Terms: words}); err == nil {
			t.Fatal("bob changed alice's document")
		}
	})
}

// TestConcurrentCorrectionsAllCount: many documents corrected at once into one topic, on
// separate connections; every increment lands.
func TestConcurrentCorrectionsAllCount(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		a, b := mustTopic(t, s, nil, "Alpha"), mustTopic(t, s, nil, "Beta")
		const n = 12
		docs := make([]store.Document, n)
		for i := range docs {
			docs[i] = classifiedDoc(t, s, u, fmt.Sprintf("shared word%d shared", i))
		}
		errs := testenv.Together(n, func(i int) error {
			ids := []string{a.ID, b.ID}
			if i%2 == 1 {
				ids = []string{b.ID, a.ID}
			}
			_, err := s.UpdateDocument(ctx, u.ID, docs[i].ID, store.DocumentPatch{TopicIDs: &ids, Terms: words})
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("correction %d: %v", i, err)
			}
		}
		m, err := s.UserTopicModel(ctx, u.ID, func() []string { return []string{"shared", "word0"} })
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range []string{a.ID, b.ID} {
			if m.Docs[tp] != n || m.Count["shared"][tp] != 2*n || m.Count["word0"][tp] != 1 || m.Terms[tp] != 3*n {
				t.Fatalf("topic %s: docs %d shared %d terms %d", tp, m.Docs[tp], m.Count["shared"][tp], m.Terms[tp])
			}
		}
	})
}

// TestUserTopicModelAnyNumberOfTerms: lookups of every size, across the padded widths and
// past one statement's worth, return exactly the learned counts of the terms asked for.
func TestUserTopicModelAnyNumberOfTerms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		tp := mustTopic(t, s, nil, "Alpha")
		var text strings.Builder
		for i := range 700 {
			for range 1 + i%3 {
				fmt.Fprintf(&text, "w%03d ", i)
			}
		}
		d := classifiedDoc(t, s, u, text.String())
		ids := []string{tp.ID}
		if _, err := s.UpdateDocument(ctx, u.ID, d.ID, store.DocumentPatch{TopicIDs: &ids, Terms: words}); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 15, 16, 17, 255, 499, 500, 501, 700} {
			asked := []string{"unknown"}
			for i := range n {
				asked = append(asked, fmt.Sprintf("w%03d", (i*3)%700))
			}
			m, err := s.UserTopicModel(ctx, u.ID, func() []string { return asked })
			if err != nil {
				t.Fatalf("%d terms: %v", n, err)
			}
			if m.Count["unknown"] != nil {
				t.Fatalf("%d terms: an unknown term has counts %v", n, m.Count["unknown"])
			}
			if len(m.Count) != min(n, 700) {
				t.Fatalf("%d terms: %d counted", n, len(m.Count))
			}
			for _, term := range asked[1:] {
				var i int
				fmt.Sscanf(term, "w%03d", &i)
				if got := m.Count[term][tp.ID]; got != int64(1+i%3) {
					t.Fatalf("%d terms: %s counted %d, want %d", n, term, got, 1+i%3)
				}
			}
		}
	})
}
