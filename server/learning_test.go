package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/docuvault/docuvault/classify"
)

type topicOut struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Confidence float64 `json:"confidence"`
	Source     string  `json:"source"`
}

type docOut struct {
	Status     string     `json:"status"`
	Topics     []topicOut `json:"topics"`
	NeedsTopic bool       `json:"needs_topic"`
	Suggested  []topicOut `json:"suggested_topics"`
}

// classifiedOut waits for a document to be classified and returns it as the API shows it.
func classifiedOut(t *testing.T, c *client, id string) docOut {
	t.Helper()
	var d docOut
	deadline := time.Now().Add(10 * time.Second)
	for d.Status != "classified" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		c.call("GET", "/api/documents/"+id, nil, 200, &d)
	}
	if d.Status != "classified" {
		t.Fatalf("not classified: %+v", d)
	}
	return d
}

// TestTopicConfidenceSuggestionsAndLearning: assigned topics carry confidence and source;
// a document nothing fits needs a topic and lists suggestions; confirming one makes it
// manual and teaches the owner's model, so the owner's next such document leans to it while
// another user's does not.
func TestTopicConfidenceSuggestionsAndLearning(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		pool := classify.New(classify.Config{Workers: 2, PollInterval: 50 * time.Millisecond, Logger: e.opts.Logger}, e.store, e.blobs, nil)
		e = e.withQueue(pool)
		pool.Start()
		t.Cleanup(func() { _ = pool.Stop(context.Background()) })
		admin := e.admin("root")
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Finance", "description": "invoices, bank statements"}, 201)
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Garden", "description": "plants, seeds, compost"}, 201)
		alice, bob := e.member("alice"), e.member("bob")

		d := classifiedOut(t, alice, uploadBytes(t, alice, "march.txt", "text/plain", []byte("Invoice for March, paid from your bank account. Invoice total 84 EUR.")))
		if len(d.Topics) == 0 || d.Topics[0].Name != "Finance" || d.Topics[0].Source != "auto" || d.Topics[0].Confidence < 0.45 ||
			d.Topics[0].Confidence > 1 || d.NeedsTopic || len(d.Suggested) != 0 {
			t.Fatalf("auto topic %+v", d)
		}

		const odd = "Minutes of the allotment committee: the quince hedge and the beehives by the shed."
		id := uploadBytes(t, alice, "minutes.txt", "text/plain", []byte(odd))
		d = classifiedOut(t, alice, id)
		if !d.NeedsTopic || len(d.Topics) != 0 || len(d.Suggested) == 0 {
			t.Fatalf("needs a topic: %+v", d)
		}
		cold := map[string]float64{}
		for _, s := range d.Suggested {
			cold[s.Name] = s.Confidence
		}
		var garden string
		var topics []struct{ ID, Name string }
		alice.call("GET", "/api/topics", nil, 200, &topics)
		for _, tp := range topics {
			if tp.Name == "Garden" {
				garden = tp.ID
			}
		}
		// Confirming: the topic becomes manual, first, confidence 1.
		alice.call("PATCH", "/api/documents/"+id, map[string]any{"topic_ids": []string{garden}}, 200, &d)
		if d.NeedsTopic || len(d.Topics) != 1 || d.Topics[0].Source != "manual" || d.Topics[0].Confidence != 1 || len(d.Suggested) != 0 {
			t.Fatalf("confirmed %+v", d)
		}

		// Alice's next such document leans to Garden; Bob's is where Alice's was before.
		a2 := classifiedOut(t, alice, uploadBytes(t, alice, "minutes-2.txt", "text/plain", []byte(odd+"\n")))
		b2 := classifiedOut(t, bob, uploadBytes(t, bob, "minutes-2.txt", "text/plain", []byte(odd+"\n")))
		conf := func(d docOut) float64 {
			for _, x := range append(d.Topics, d.Suggested...) {
				if x.Name == "Garden" {
					return x.Confidence
				}
			}
			return 0
		}
		if conf(a2) <= cold["Garden"] || conf(a2) <= conf(b2) {
			t.Fatalf("learning not visible: cold %v, alice %+v, bob %+v", cold, a2, b2)
		}
		if (a2.NeedsTopic && a2.Suggested[0].Name != "Garden") || (!a2.NeedsTopic && a2.Topics[0].Name != "Garden") {
			t.Fatalf("alice's next document does not put Garden first: %+v", a2)
		}
		if conf(b2) != cold["Garden"] {
			t.Fatalf("bob's document moved with alice's correction: %+v (cold %v)", b2, cold)
		}
	})
}
