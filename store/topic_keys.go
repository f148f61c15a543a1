package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// topicKey is what makes two topic names the same: the trimmed name in NFC, case-folded
// (Unicode full folding: "Ärzte" and "ärzte", "STRASSE" and "straße" meet). It is computed
// here, not in SQL, so that both databases agree: SQLite's lower() folds ASCII only.
func topicKey(name string) string {
	return cases.Fold().String(norm.NFC.String(strings.TrimSpace(name)))
}

// versionTopicKeys is the migration that adds topics.name_key.
const versionTopicKeys = "0009-topic-name-key"

// afterUp runs the Go part of an up migration, in the migration's transaction.
func (s *Store) afterUp(ctx context.Context, tx *sql.Tx, version string) error {
	switch version {
	case versionTopicKeys:
		return fillTopicKeys(ctx, tx)
	case versionDocumentNameKeys:
		return fillDocumentNameKeys(ctx, tx)
	}
	return nil
}

// fillTopicKeys replaces the provisional lower(name) keys of migration 0009 with topicKey.
// Two topics of one namespace with the same key can exist from before (SQLite let "Ärzte"
// and "ärzte" both in): the older keeps its name, the newer is renamed "name (2)". Keys first
// become the row id, so that no intermediate state collides with another row's old key.
func fillTopicKeys(ctx context.Context, tx *sql.Tx) error {
	type topic struct {
		id, name, key string
		owner         sql.NullString
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, user_id, name FROM topics ORDER BY id`)
	if err != nil {
		return fmt.Errorf("topic keys: %w", err)
	}
	var all []topic
	for rows.Next() {
		var t topic
		if err := rows.Scan(&t.id, &t.owner, &t.name); err != nil {
			rows.Close()
			return fmt.Errorf("topic keys: %w", err)
		}
		all = append(all, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("topic keys: %w", err)
	}
	// Every name that is first with its key stays; only then do the others pick free
	// suffixes, so a rename never takes the name of a topic that would have kept it.
	taken := map[string]bool{} // namespace + "\n" + key
	var renamed []*topic
	for i := range all {
		t := &all[i]
		t.key = topicKey(t.name)
		if k := t.owner.String + "\n" + t.key; taken[k] {
			renamed = append(renamed, t)
		} else {
			taken[k] = true
		}
	}
	for _, t := range renamed {
		base := t.name
		for n := 2; taken[t.owner.String+"\n"+t.key]; n++ {
			t.name = fmt.Sprintf("%s (%d)", base, n)
			t.key = topicKey(t.name)
		}
		taken[t.owner.String+"\n"+t.key] = true
		slog.Warn("topic renamed: its name differs from another of the same owner only in case",
			"topic_id", t.id, "was", base, "now", t.name)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE topics SET name_key = id`); err != nil {
		return fmt.Errorf("topic keys: %w", err)
	}
	for _, t := range all {
		if _, err := tx.ExecContext(ctx, `UPDATE topics SET name = $1, name_key = $2 WHERE id = $3`, t.name, t.key, t.id); err != nil {
			return fmt.Errorf("topic keys: %w", err)
		}
	}
	return nil
}
