package classify

import (
	"context"
	"strings"
	"testing"
)

// TestDetectLanguage names the language of a few lines in each supported language.
func TestDetectLanguage(t *testing.T) {
	for want, text := range map[string]string{
		English: "Please find attached the invoice for the repair of your car. The amount is due within 14 days.",
		German:  "Sehr geehrte Damen und Herren, anbei erhalten Sie die Rechnung für die Reparatur Ihres Autos. Der Betrag ist innerhalb von 14 Tagen fällig.",
		French:  "Madame, Monsieur, veuillez trouver ci-joint la facture pour la réparation de votre voiture. Le montant est à régler sous 14 jours.",
		Spanish: "Estimado cliente, le enviamos la factura de la reparación de su coche. El importe se debe pagar en un plazo de 14 días.",
		Italian: "Gentile cliente, in allegato trova la fattura per la riparazione della sua auto. L'importo è da pagare entro 14 giorni.",
		Dutch:   "Geachte klant, hierbij ontvangt u de factuur voor de reparatie van uw auto. Het bedrag moet binnen 14 dagen worden betaald.",
		"":      "",
	} {
		got := DetectLanguage(detectWords(text))
		if want == "" {
			want = English // nothing to go on
		}
		if got != want {
			t.Errorf("%q: got %s, want %s", clip(text, 40), got, want)
		}
	}
}

// TestStemmingMatchesAcrossWordForms: a German invoice matches a topic described as
// "Rechnungen und Zahlungen", a French one "Factures", through stemming and compounds.
func TestStemmingMatchesAcrossWordForms(t *testing.T) {
	topics := []Candidate{
		{ID: "1", Name: "Finanzen", Description: "Rechnungen und Zahlungen"},
		{ID: "2", Name: "Gesundheit", Description: "Arztbriefe, Befunde und Rezepte"},
		{ID: "3", Name: "Factures", Description: "factures et paiements"},
	}
	for text, want := range map[string]string{
		"Sehr geehrter Herr Weber, anbei erhalten Sie unsere Rechnung Nr. 4711. Bitte zahlen Sie den Rechnungsbetrag innerhalb von 14 Tagen.": "Finanzen",
		"Ihre Stromrechnung für das Jahr: die Zahlung wird per Lastschrift eingezogen.":                                                       "Finanzen",
		"Der Befund Ihrer Blutuntersuchung liegt vor; das Rezept liegt in der Praxis bereit.":                                                 "Gesundheit",
		"Veuillez trouver ci-joint notre facture du mois de mars, à payer par virement.":                                                      "Factures",
	} {
		got, err := NewLocal().Classify(context.Background(), Request{Filename: "scan.pdf", Text: text, Candidates: topics})
		if err != nil || len(got) == 0 || got[0].Name != want {
			t.Errorf("%q: got %+v %v, want %s first", clip(text, 40), got, err, want)
		}
	}
}

// TestNothingToGoOnAssignsNothing: a text that says nothing about any topic gets no topic
// above the default threshold, and hostile input (NUL bytes, huge words) is harmless.
func TestNothingToGoOnAssignsNothing(t *testing.T) {
	topics := []Candidate{{ID: "1", Name: "Finance", Description: "invoices"}, {ID: "2", Name: "Health", Description: "doctor"}}
	for _, text := range []string{"", "lorem ipsum dolor sit amet", "\x00\x00\x00", strings.Repeat("x", 1<<20), strings.Repeat("ab ", 200_000)} {
		got, err := NewLocal().Classify(context.Background(), Request{Filename: "", Text: text, Candidates: topics})
		if err != nil {
			t.Fatal(err)
		}
		if assign, _ := DefaultPolicy.Decide(got); len(assign) != 0 {
			t.Errorf("%q: assigned %+v", clip(text, 20), assign)
		}
	}
}

// TestPolicyDecide: the best topic needs the threshold, further ones the margin, at most
// MaxTopics; below the threshold the best are suggested instead.
func TestPolicyDecide(t *testing.T) {
	p := Policy{MinConfidence: 0.5, MaxTopics: 2, Margin: 0.8}
	names := func(cs []Choice) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		in              []Choice
		assign, suggest string
	}{
		{[]Choice{{"b", 0.6}, {"a", 0.9}}, "a", ""},                             // 0.6 < 0.8 × 0.9
		{[]Choice{{"a", 0.9}, {"b", 0.75}, {"c", 0.74}}, "a,b", ""},             // c within the margin but past MaxTopics
		{[]Choice{{"a", 0.55}, {"b", 0.45}}, "a", ""},                           // b within the margin but under the threshold
		{[]Choice{{"a", 0.4}, {"b", 0.3}, {"c", 0.2}, {"d", 0.1}}, "", "a,b,c"}, // needs a topic
		{nil, "", ""},
	} {
		assign, suggest := p.Decide(c.in)
		if names(assign) != c.assign || names(suggest) != c.suggest {
			t.Errorf("%v: assign %q suggest %q, want %q %q", c.in, names(assign), names(suggest), c.assign, c.suggest)
		}
	}
}
