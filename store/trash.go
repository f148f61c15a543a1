package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"
)

// ErrUnfinished is a change refused because the document's upload is not confirmed yet.
var ErrUnfinished = errors.New("store: upload not finished")

// TrashDocument moves one of the user's confirmed documents to the trash: hidden from the
// list and search, still charged to the quota (and counted in trash_bytes). Trashing a
// document already in the trash changes nothing. A pending document: ErrUnfinished.
func (s *Store) TrashDocument(ctx context.Context, userID, id string) (Document, error) {
	return s.setTrashed(ctx, userID, []string{id}, true, "trash")
}

// RestoreDocument takes one of the user's documents out of the trash (idempotent).
func (s *Store) RestoreDocument(ctx context.Context, userID, id string) (Document, error) {
	return s.setTrashed(ctx, userID, []string{id}, false, "restore")
}

func (s *Store) setTrashed(ctx context.Context, userID string, ids []string, trash bool, op string) (Document, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.moveTrash(ctx, tx, userID, ids, trash) })
	if err != nil {
		return Document{}, fmt.Errorf("store: %s document: %w", op, err)
	}
	return s.Document(ctx, userID, ids[0])
}

// moveTrash moves the user's documents ids (distinct, all theirs: checked by the caller)
// into the trash or out of it, with the counters, in tx. Documents already there stay as
// they are; a pending one refuses the whole move.
func (s *Store) moveTrash(ctx context.Context, tx *sql.Tx, userID string, ids []string, trash bool) error {
	args := []any{userID, trash}
	for _, id := range ids {
		args = append(args, id)
	}
	in := placeholders(3, len(ids))
	var pending int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents WHERE user_id = $1 AND status = 'pending' AND trashed <> $2
		AND id IN (`+in+`)`, args...).Scan(&pending); err != nil {
		return err
	}
	if pending > 0 {
		return ErrUnfinished
	}
	var at any // NULL when restored
	if trash {
		at = s.Now()
	}
	args = append(args, at)
	rows, err := tx.QueryContext(ctx, `UPDATE documents SET trashed = $2, trashed_at = $`+fmt.Sprint(len(args))+`
		WHERE user_id = $1 AND trashed <> $2 AND status <> 'pending' AND id IN (`+in+`) RETURNING size_bytes`, args...)
	if err != nil {
		return err
	}
	var q quotaDelta
	for rows.Next() {
		var size int64
		if err := rows.Scan(&size); err != nil {
			rows.Close()
			return err
		}
		q.move(size, trash)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return q.apply(ctx, tx, userID)
}

// PurgeTrash deletes for good the documents trashed before cutoff, at most batch per
// transaction until none is left: each transaction gives their bytes back to their owners'
// quotas and queues their objects in the deletion outbox. It returns how many it deleted.
// Replicas may run it at once: a document is deleted, and its bytes given back, only once.
func (s *Store) PurgeTrash(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	total := 0
	for {
		n, err := s.purgeTrashBatch(ctx, cutoff, batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: purge trash: %w", err)
		}
		if n < batch {
			return total, nil
		}
	}
}

func (s *Store) purgeTrashBatch(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		// The expired documents are locked in id order first, as bulk actions lock theirs,
		// so a purge racing a bulk restore queues up instead of deadlocking.
		locked, err := tx.QueryContext(ctx, `SELECT id FROM documents WHERE id IN (
			SELECT id FROM documents WHERE trashed_at < $1 ORDER BY trashed_at LIMIT $2) ORDER BY id`+s.forUpdate(), cutoff, batch)
		if err != nil {
			return err
		}
		args := []any{true, cutoff}
		for locked.Next() {
			var id string
			if err := locked.Scan(&id); err != nil {
				locked.Close()
				return err
			}
			args = append(args, id)
		}
		locked.Close()
		if err := locked.Err(); err != nil {
			return err
		}
		if len(args) == 2 {
			return nil
		}
		// The conditions are checked again on the locked rows: one restored meanwhile stays.
		rows, err := tx.QueryContext(ctx, `DELETE FROM documents WHERE trashed = $1 AND trashed_at < $2 AND id IN (`+
			placeholders(3, len(args)-2)+`) RETURNING object_key, user_id, size_bytes, status`, args...)
		if err != nil {
			return err
		}
		deltas := map[string]*quotaDelta{}
		var keys []string
		for rows.Next() {
			var key, user, status string
			var size int64
			if err := rows.Scan(&key, &user, &size, &status); err != nil {
				rows.Close()
				return err
			}
			if deltas[user] == nil {
				deltas[user] = &quotaDelta{}
			}
			deltas[user].release(size, status, true)
			keys = append(keys, key)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		users := make([]string, 0, len(deltas))
		for u := range deltas {
			users = append(users, u)
		}
		sort.Strings(users) // one lock order for the quota rows
		for _, u := range users {
			if err := deltas[u].apply(ctx, tx, u); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := enqueueObject(ctx, tx, k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, err
}
