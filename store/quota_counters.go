package store

import (
	"context"
	"database/sql"
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
