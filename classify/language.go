package classify

import (
	"strings"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/spanish"
)

// Languages the classifier stems, by ISO 639-1 code.
const (
	English = "en"
	German  = "de"
	French  = "fr"
	Spanish = "es"
	Italian = "it"
	Dutch   = "nl"
)

// language is one language's stop words and Snowball stemmer.
type language struct {
	stop map[string]bool
	stem func(*snowball.Env) bool
}

// The stop words are the most frequent function words of each language: frequent enough to
// tell the language of a few lines of text, and saying nothing about a topic.
var languages = map[string]language{
	English: {words(`the a an and or of to in on at for with by from as is are was were be been being it its this that these those
		you your yours we our us he she his her they their them i me my not no but if then so than there here which who whom what when
		where how all any each per also can could will would shall should may might must do does did has have had up out over under into
		about after before between dear please regards sincerely yours`), english.Stem},
	German: {words(`der die das den dem des ein eine einer eines einem einen und oder aber nicht kein keine ist sind war waren wird werden
		wurde wurden sein seine ihr ihre ihren ihrem ich du er sie es wir uns unser unsere euch mit von zu zum zur bei im in an am auf aus
		für fur über uber unter nach vor bis durch als auch wie wenn dass daß so noch nur schon sehr hier dort diese dieser dieses diesem
		hat haben hatte habe kann können konnen soll sollen muss müssen bitte sehr geehrte geehrter geehrten freundlichen grüßen grussen
		mfg ihnen ihrer`), german.Stem},
	French: {words(`le la les un une des du de et ou mais ne pas que qui quoi dont où est sont était été être avoir a ai ont avec pour par
		sur dans en au aux ce cet cette ces son sa ses leur leurs nous vous ils elles je tu il elle on se y votre vos notre nos plus moins
		très bien aussi comme si madame monsieur veuillez agréer salutations cordialement`), french.Stem},
	Spanish: {words(`el la los las un una unos unas y o pero no que quien cual de del al en con por para sin sobre es son era fue ser
		estar está están ha han hay se su sus lo le les nos vos usted ustedes mi mis tu tus este esta estos estas ese esa muy más como
		cuando donde también atentamente estimado estimada saludos`), spanish.Stem},
	Italian: {words(`il lo la i gli le un uno una e ed o ma non che chi cui di del della dei delle da dal dalla in nel nella con per su
		sul sulla tra fra è sono era erano essere ha hanno ho si suo sua suoi sue loro noi voi io tu lei questo questa questi queste
		quello quella molto più come quando dove anche gentile distinti saluti cordiali`), italian.Stem},
	Dutch: {words(`de het een en of maar niet geen dat die dit deze wie wat van voor met op in aan bij uit naar over onder door als ook
		is zijn was waren wordt worden werd heeft hebben had ik je jij u uw wij we ons onze zij ze hij haar hun er hier daar zeer nog wel
		al om te tot geachte hoogachtend vriendelijke groet groeten`), dutch.Stem},
}

// detectOrder breaks ties between languages (and is the default: English).
var detectOrder = []string{English, German, French, Spanish, Italian, Dutch}

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// detectSample bounds the words the detector looks at: the opening of a document says enough.
const detectSample = 400

// DetectLanguage names the language of words (lowercase) by which language's stop words
// occur most often among them; English when none stands out.
func DetectLanguage(words []string) string {
	hits := map[string]int{}
	for i, w := range words {
		if i == detectSample {
			break
		}
		for code, l := range languages {
			if l.stop[w] {
				hits[code]++
			}
		}
	}
	best, n := English, 0
	for _, code := range detectOrder {
		if hits[code] > n {
			best, n = code, hits[code]
		}
	}
	return best
}

// stemWord reduces a lowercase word to its stem in lang; numbers and words in other scripts
// pass unchanged.
func stemWord(lang, w string) string {
	l, ok := languages[lang]
	if !ok || w == "" || w[0] >= '0' && w[0] <= '9' {
		return w
	}
	env := snowball.NewEnv(w)
	l.stem(env)
	return env.Current()
}

// anyStop holds the stop words of every language: text is dropped by all of them, since a
// document or a topic description may mix languages, and a word that is grammar in one of
// them is a weak clue in the others.
var anyStop = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range languages {
		for w := range l.stop {
			m[w] = true
		}
	}
	return m
}()
