package importer

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/docuvault/docuvault/store"
)

// topicResolver turns topic names into ids: a system topic or one of the user's own with
// that name (case does not matter), else a new topic of the user's.
type topicResolver struct {
	st     Store
	userID string
	byName map[string]string
	added  int
}

var colour = regexp.MustCompile(`^#[0-9a-f]{6}$`)

func (t *topicResolver) ids(ctx context.Context, refs []TopicRef) ([]string, error) {
	if t.byName == nil {
		visible, err := t.st.VisibleTopics(ctx, t.userID)
		if err != nil {
			return nil, err
		}
		t.byName = map[string]string{}
		for _, v := range visible {
			key := strings.ToLower(v.Name)
			if _, taken := t.byName[key]; !taken || !v.System() {
				t.byName[key] = v.ID // the user's own wins over a system topic of the same name
			}
		}
	}
	out := []string{}
	// ids are deduplicated by UpdateDocument.
	for _, r := range refs {
		name := strings.TrimSpace(r.Name)
		if name == "" || len(name) > 100 || strings.ContainsFunc(name, unicode.IsControl) || !utf8.ValidString(name) {
			continue // a name the vault does not take; the document keeps its other topics
		}
		desc := r.Description
		if len(desc) > 2000 || !utf8.ValidString(desc) || strings.ContainsRune(desc, 0) {
			desc = ""
		}
		key := strings.ToLower(name)
		id, ok := t.byName[key]
		if !ok {
			c := strings.ToLower(r.Color)
			if !colour.MatchString(c) {
				c = ""
			}
			uid := t.userID
			nt, err := t.st.AddTopic(ctx, store.Topic{UserID: &uid, Name: name, Description: desc, Color: c})
			var inv *store.InvalidError
			if errors.As(err, &inv) {
				continue // no room for more topics: the document keeps its other topics
			}
			if errors.Is(err, store.ErrConflict) {
				// The same name in another spelling of case (the vault folds more than
				// ToLower): take the existing topic.
				if id, ok := t.existing(ctx, name); ok {
					out = append(out, id)
				}
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("import: topic %q: %w", name, err)
			}
			id = nt.ID
			t.byName[key] = id
			t.added++
		}
		out = append(out, id)
	}
	return out, nil
}

// existing finds a topic whose name the store saw as taken, by asking it again.
func (t *topicResolver) existing(ctx context.Context, name string) (string, bool) {
	visible, err := t.st.VisibleTopics(ctx, t.userID)
	if err != nil {
		return "", false
	}
	for _, v := range visible {
		if strings.EqualFold(v.Name, name) {
			t.byName[strings.ToLower(name)] = v.ID
			return v.ID, true
		}
	}
	return "", false
}
