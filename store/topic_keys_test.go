package store_test

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// TestTopicNamesUniqueIgnoringCaseInAnyScript: names that differ only in case conflict on
// both databases, non-ASCII letters included (SQLite's lower() alone folds ASCII only).
func TestTopicNamesUniqueIgnoringCaseInAnyScript(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		for _, owner := range []*string{nil, &u.ID} {
			if _, err := s.CreateTopic(ctx, owner, "Ärzte", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateTopic(ctx, owner, "Straße", ""); err != nil {
				t.Fatal(err)
			}
			for _, dup := range []string{"ärzte", "ÄRZTE", " ärzte ", "A\u0308rzte", "STRASSE", "strasse"} {
				if _, err := s.CreateTopic(ctx, owner, dup, ""); !errors.Is(err, store.ErrConflict) {
					t.Errorf("create %q beside Ärzte and Straße (owner %v): %v, want ErrConflict", dup, owner != nil, err)
				}
			}
			other, err := s.CreateTopic(ctx, owner, "Ämter", "")
			if err != nil {
				t.Fatal(err)
			}
			name := "äRZTE"
			if _, err := s.UpdateTopic(ctx, other.ID, store.TopicPatch{Name: &name}); !errors.Is(err, store.ErrConflict) {
				t.Errorf("rename to %q: %v, want ErrConflict", name, err)
			}
			name = "ÄMTER" // its own name in another case is fine
			if _, err := s.UpdateTopic(ctx, other.ID, store.TopicPatch{Name: &name}); err != nil {
				t.Errorf("rename to %q: %v", name, err)
			}
		}
		// Another user's namespace is separate.
		bob := mustUser(t, s, "bob", store.RoleUser, 1<<20)
		if _, err := s.CreateTopic(ctx, &bob.ID, "ärzte", ""); err != nil {
			t.Errorf("bob's ärzte: %v", err)
		}
	})
}

// TestMigration0009KeysExistingTopics: the migration computes the key of every existing
// topic on both databases; of two names in one namespace that differ only in case (which
// SQLite allowed before), the older keeps its name and the newer gets a suffix.
func TestMigration0009KeysExistingTopics(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		known, _ := s.Versions()
		i := sort.SearchStrings(known, "0009-topic-name-key")
		if err := s.MigrateTo(ctx, known[i-1]); err != nil {
			t.Fatal(err)
		}
		u := mustUser(t, s, "alice", store.RoleUser, 1<<20)
		insert := func(id string, owner any, name string) error {
			_, err := s.DB().Exec(`INSERT INTO topics (id, user_id, name) VALUES ($1, $2, $3)`, id, owner, name)
			return err
		}
		for _, r := range []struct {
			id    string
			owner any
			name  string
		}{{"t1", u.ID, "Ärzte"}, {"t3", nil, "ärzte"}, {"t4", u.ID, "Finance"}, {"t5", u.ID, "ärzte (2)"}} {
			if err := insert(r.id, r.owner, r.name); err != nil {
				t.Fatal(err)
			}
		}
		// Postgres's lower() may fold Ä already (by the database's ctype), refusing the pair.
		pair := insert("t2", u.ID, "ärzte") == nil
		if !pair && s.Dialect() == store.SQLite {
			t.Fatal("SQLite refused ärzte beside Ärzte before the migration")
		}
		if err := s.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"t1": "Ärzte", "t3": "ärzte", "t4": "Finance", "t5": "ärzte (2)"}
		if pair {
			want["t2"] = "ärzte (3)"
		}
		for id, name := range want {
			topic, err := s.TopicByID(ctx, id)
			if err != nil || topic.Name != name {
				t.Errorf("topic %s: %q %v, want %q", id, topic.Name, err, name)
			}
		}
		for _, dup := range []string{"ÄRZTE", "FINANCE", "Ärzte (2)"} {
			if _, err := s.CreateTopic(ctx, &u.ID, dup, ""); !errors.Is(err, store.ErrConflict) {
				t.Errorf("create %q after the migration: %v, want ErrConflict", dup, err)
			}
		}
		if _, err := s.CreateTopic(ctx, nil, "ÄRZTE", ""); !errors.Is(err, store.ErrConflict) {
			t.Errorf("system ÄRZTE after the migration: %v, want ErrConflict", err)
		}
	})
}
