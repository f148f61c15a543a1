package store

import (
	"strings"
	"testing"
)

// BenchmarkSnippet cuts the snippet of a 200-word text, beside a baseline that only splits
// the same text into words.
func BenchmarkSnippet(b *testing.B) {
	text := strings.Repeat("the invoice of march for the flat in Lisbon and the tax w9197 ", 20)
	b.Run("snippet", func(b *testing.B) {
		for b.Loop() {
			snippet(text, []string{"w9197"}, true)
		}
	})
	b.Run("baseline-fields", func(b *testing.B) {
		for b.Loop() {
			strings.Fields(text)
		}
	})
}
