package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// Bulk actions on many documents at once.
const (
	BulkAddTopics    = "add_topics"
	BulkRemoveTopics = "remove_topics"
	BulkTrash        = "trash"
	BulkRestore      = "restore"
	BulkDelete       = "delete"
)

// MaxBulkIDs bounds the documents of one bulk action, so one transaction stays short.
const MaxBulkIDs = 500

// BulkDocuments applies action to the user's documents ids in one transaction, all or
// nothing: an id that is not one of the user's documents is ErrNotFound, a topic that is
// neither a system topic nor the user's own an *InvalidError, a pending document in a move
// to the trash ErrUnfinished — and then nothing changed. The documents are locked in id
// order first, so bulk actions and single changes racing on the same documents queue up
// instead of deadlocking. It returns how many distinct documents the action named and, for
// delete, the object keys queued for deletion.
func (s *Store) BulkDocuments(ctx context.Context, userID, action string, ids, topicIDs []string) (int, []string, error) {
	ids = dedupe(ids)
	topicIDs = dedupe(topicIDs)
	var keys []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		keys = nil
		args := []any{userID}
		for _, id := range ids {
			args = append(args, id)
		}
		in := placeholders(2, len(ids))
		rows, err := tx.QueryContext(ctx, `SELECT id FROM documents WHERE user_id = $1 AND id IN (`+in+`) ORDER BY id`+s.forUpdate(), args...)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n != len(ids) {
			return ErrNotFound
		}
		switch action {
		case BulkAddTopics, BulkRemoveTopics:
			if err := visibleTopics(ctx, tx, userID, topicIDs); err != nil {
				return err
			}
			targs := append([]any{}, args...)
			for _, t := range topicIDs {
				targs = append(targs, t)
			}
			tin := placeholders(len(args)+1, len(topicIDs))
			q := `DELETE FROM document_topics WHERE topic_id IN (` + tin + `) AND document_id IN (
				SELECT id FROM documents WHERE user_id = $1 AND id IN (` + in + `))`
			if action == BulkAddTopics {
				q = `INSERT INTO document_topics (document_id, topic_id, source) SELECT d.id, t.id, 'user' FROM documents d, topics t
					WHERE d.user_id = $1 AND d.id IN (` + in + `) AND t.id IN (` + tin + `) ON CONFLICT (document_id, topic_id) DO NOTHING`
			}
			_, err := tx.ExecContext(ctx, q, targs...)
			return err
		case BulkTrash, BulkRestore:
			return s.moveTrash(ctx, tx, userID, ids, action == BulkTrash)
		case BulkDelete:
			keys, err = deleteUserDocuments(ctx, tx, userID, in, args)
			return err
		}
		return &InvalidError{Reason: "unknown action " + strconv.Quote(action)}
	})
	if err != nil {
		return 0, nil, fmt.Errorf("store: bulk %s: %w", action, err)
	}
	return len(ids), keys, nil
}

// visibleTopics refuses topic ids that are neither system topics nor the user's own.
func visibleTopics(ctx context.Context, tx *sql.Tx, userID string, topicIDs []string) error {
	if len(topicIDs) == 0 {
		return nil
	}
	args := []any{userID}
	for _, t := range topicIDs {
		args = append(args, t)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM topics WHERE (user_id IS NULL OR user_id = $1) AND id IN (`+
		placeholders(2, len(topicIDs))+`)`, args...).Scan(&n); err != nil {
		return err
	}
	if n != len(topicIDs) {
		return &InvalidError{Reason: "topic_ids must be system topics or your own"}
	}
	return nil
}

// deleteUserDocuments deletes the user's documents listed by in (placeholders over args,
// whose first is the user's id), gives their bytes back and queues their objects, in tx.
func deleteUserDocuments(ctx context.Context, tx *sql.Tx, userID, in string, args []any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM documents WHERE user_id = $1 AND id IN (`+in+`)
		RETURNING object_key, size_bytes, status, trashed`, args...)
	if err != nil {
		return nil, err
	}
	var q quotaDelta
	var deleted []string
	for rows.Next() {
		var key, status string
		var size int64
		var trashed bool
		if err := rows.Scan(&key, &size, &status, &trashed); err != nil {
			rows.Close()
			return nil, err
		}
		q.release(size, status, trashed)
		deleted = append(deleted, key)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := q.apply(ctx, tx, userID); err != nil {
		return nil, err
	}
	keys := make([]string, 0, 2*len(deleted))
	for _, k := range deleted {
		if err := enqueueObject(ctx, tx, k); err != nil {
			return nil, err
		}
		keys = append(keys, k, StagingKeyFor(k))
	}
	return keys, nil
}
