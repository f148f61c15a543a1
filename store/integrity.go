package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// StoredDocument is what the integrity check knows of a confirmed document's bytes.
type StoredDocument struct {
	ID        string
	UserID    string
	ObjectKey string
	SizeBytes int64
	SHA256    string // "" until recorded
}

// ConfirmedDocuments pages through the confirmed documents in id order, after afterID
// ("" for the first page): keyset on the primary key, so the check never holds them all.
func (s *Store) ConfirmedDocuments(ctx context.Context, afterID string, limit int) ([]StoredDocument, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_id, object_key, size_bytes, sha256 FROM documents
		WHERE status <> 'pending' AND id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: confirmed documents: %w", err)
	}
	defer rows.Close()
	var out []StoredDocument
	for rows.Next() {
		var d StoredDocument
		var sum sql.NullString
		if err := rows.Scan(&d.ID, &d.UserID, &d.ObjectKey, &d.SizeBytes, &sum); err != nil {
			return nil, fmt.Errorf("store: confirmed documents: %w", err)
		}
		d.SHA256 = sum.String
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: confirmed documents: %w", err)
	}
	return out, nil
}

// KnownObjects returns which of keys some row still refers to: a document's object, the
// staging object of a pending document, or a key queued for deletion (the drain owns it).
func (s *Store) KnownObjects(ctx context.Context, keys []string) (map[string]bool, error) {
	known := make(map[string]bool, len(keys))
	if len(keys) == 0 {
		return known, nil
	}
	var final, staged, thumbs []any
	for _, k := range keys {
		if rest, ok := strings.CutPrefix(k, StagingPrefix); ok {
			staged = append(staged, rest)
		} else if owner, ok := thumbOwner(k); ok {
			thumbs = append(thumbs, owner)
		} else {
			final = append(final, k)
		}
	}
	query := func(q string, args []any, key func(string) string) error {
		if len(args) == 0 {
			return nil
		}
		rows, err := s.db.QueryContext(ctx, fmt.Sprintf(q, placeholders(1, len(args))), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			known[key(k)] = true
		}
		return rows.Err()
	}
	same := func(k string) string { return k }
	err := query(`SELECT object_key FROM documents WHERE object_key IN (%s)`, final, same)
	if err == nil {
		err = query(`SELECT object_key FROM documents WHERE status = 'pending' AND object_key IN (%s)`, staged, StagingKeyFor)
	}
	if err == nil { // a thumbnail belongs to its document while the document exists
		err = query(`SELECT object_key FROM documents WHERE object_key IN (%s)`, thumbs, ThumbKeyFor)
	}
	if err == nil {
		all := make([]any, len(keys))
		for i, k := range keys {
			all[i] = k
		}
		err = query(`SELECT object_key FROM blob_deletions WHERE object_key IN (%s)`, all, same)
	}
	if err != nil {
		return nil, fmt.Errorf("store: known objects: %w", err)
	}
	return known, nil
}

// QuotaDrift is a user whose quota counters differ from their documents.
type QuotaDrift struct {
	UserID                   string
	UsedBytes, ActualUsed    int64 // used_bytes and the sum of confirmed sizes
	PendingBytes, ActualHeld int64 // pending_bytes and the sum of pending declared sizes
}

// QuotaDrifts compares every user's counters with the sums of their documents.
func (s *Store) QuotaDrifts(ctx context.Context) ([]QuotaDrift, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT q.user_id, q.used_bytes, q.pending_bytes,
		COALESCE((SELECT SUM(d.size_bytes) FROM documents d WHERE d.user_id = q.user_id AND d.status <> 'pending'), 0),
		COALESCE((SELECT SUM(d.size_bytes) FROM documents d WHERE d.user_id = q.user_id AND d.status = 'pending'), 0)
		FROM quotas q ORDER BY q.user_id`)
	if err != nil {
		return nil, fmt.Errorf("store: quota drifts: %w", err)
	}
	defer rows.Close()
	var out []QuotaDrift
	for rows.Next() {
		var d QuotaDrift
		if err := rows.Scan(&d.UserID, &d.UsedBytes, &d.PendingBytes, &d.ActualUsed, &d.ActualHeld); err != nil {
			return nil, fmt.Errorf("store: quota drifts: %w", err)
		}
		if d.UsedBytes != d.ActualUsed || d.PendingBytes != d.ActualHeld {
			out = append(out, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: quota drifts: %w", err)
	}
	return out, nil
}

// ReconcilePending recomputes pending_bytes from the pending documents of one user. The quota
// row is locked first and the documents summed by a later statement: on Postgres an UPDATE
// whose SET sums the documents reads them as of its start, so one that waited for a
// reservation's row lock would overwrite it with a sum that misses the new pending row.
func (s *Store) ReconcilePending(ctx context.Context, userID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var was int64
		if err := tx.QueryRowContext(ctx, `SELECT pending_bytes FROM quotas WHERE user_id = $1`+s.forUpdate(), userID).Scan(&was); err != nil {
			return notFound(err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE quotas SET pending_bytes = COALESCE((SELECT SUM(d.size_bytes) FROM documents d
			WHERE d.user_id = quotas.user_id AND d.status = 'pending'), 0) WHERE user_id = $1`, userID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil // the user was deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("store: reconcile pending: %w", err)
	}
	return nil
}
