package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
)

// quotaDelta is a change to one user's quota row: bytes and document counts, applied in
// the transaction that changes the documents so the counters never drift from them.
type quotaDelta struct {
	used, pending, trash      int64 // bytes
	documents, trashDocuments int64 // live documents (any status) and trashed ones
}

// release counts out one removed document: its bytes (or its pending reservation) and its
// place in the list or the trash.
func (q *quotaDelta) release(size int64, status string, trashed bool) {
	switch {
	case trashed:
		q.used -= size
		q.trash -= size
		q.trashDocuments--
	case status == StatusPending:
		q.pending -= size
		q.documents--
	default:
		q.used -= size
		q.documents--
	}
}

// move counts one confirmed document into the trash (toTrash) or back out of it; its bytes
// stay charged either way.
func (q *quotaDelta) move(size int64, toTrash bool) {
	sign := int64(1)
	if !toTrash {
		sign = -1
	}
	q.trash += sign * size
	q.trashDocuments += sign
	q.documents -= sign
}

// apply writes the delta to userID's quota row, if anything changed.
func (q quotaDelta) apply(ctx context.Context, tx *sql.Tx, userID string) error {
	if q == (quotaDelta{}) {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE quotas SET used_bytes = used_bytes + $1, pending_bytes = pending_bytes + $2,
		trash_bytes = trash_bytes + $3, document_count = document_count + $4, trash_count = trash_count + $5 WHERE user_id = $6`,
		q.used, q.pending, q.trash, q.documents, q.trashDocuments, userID)
	return err
}

// ReconcileListCounters recomputes each user's trash_bytes, document_count and trash_count
// from their documents and logs each correction (the nightly job, beside ReconcileQuotas).
// Like reconcileQuota it locks the quota row before it counts, so a change committed while
// it waited is counted and one still waiting adds its delta on top of the stored count.
func (s *Store) ReconcileListCounters(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id FROM quotas ORDER BY user_id`)
	if err != nil {
		return 0, fmt.Errorf("store: reconcile list counters: %w", err)
	}
	var users []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: reconcile list counters: %w", err)
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: reconcile list counters: %w", err)
	}
	fixed := 0
	for _, u := range users {
		var was, now [3]int64
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if err := tx.QueryRowContext(ctx, `SELECT trash_bytes, document_count, trash_count FROM quotas WHERE user_id = $1`+s.forUpdate(), u).
				Scan(&was[0], &was[1], &was[2]); err != nil {
				return notFound(err)
			}
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN trashed THEN size_bytes ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN trashed THEN 0 ELSE 1 END), 0), COALESCE(SUM(CASE WHEN trashed THEN 1 ELSE 0 END), 0)
				FROM documents WHERE user_id = $1`, u).Scan(&now[0], &now[1], &now[2]); err != nil {
				return err
			}
			if was == now {
				return nil
			}
			_, err := tx.ExecContext(ctx, `UPDATE quotas SET trash_bytes = $1, document_count = $2, trash_count = $3 WHERE user_id = $4`,
				now[0], now[1], now[2], u)
			return err
		})
		if errors.Is(err, ErrNotFound) {
			continue // the user was deleted meanwhile
		}
		if err != nil {
			return fixed, fmt.Errorf("store: reconcile list counters of %s: %w", u, err)
		}
		if was != now {
			fixed++
			slog.Warn("list counters corrected", "user_id", u, "was", was, "now", now)
		}
	}
	return fixed, nil
}
