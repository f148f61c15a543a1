package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ConsumeKey names one version of a file in a consume folder: its path under the folder,
// its size and its modification time. A file rewritten in place is a new key.
type ConsumeKey struct {
	Path    string
	Size    int64
	MtimeNS int64
}

// ConsumeClaim is a replica's hold on a consume-folder file.
type ConsumeClaim struct {
	ConsumeKey
	UserID     string
	Holder     string
	DocumentID string // the document the file became or is becoming; "" before that
	Done       bool   // the document is committed: only the file's removal is left
}

// ClaimConsumeFile takes key for holder until until, when no one holds it or the holder's
// lease ran out before now (a replica that died). ok is false when another replica holds
// it. A returned claim with Done set, or with a DocumentID from an earlier holder, says
// how far that holder got; the caller finishes from there.
func (s *Store) ClaimConsumeFile(ctx context.Context, key ConsumeKey, userID, holder string, until, now time.Time) (c ConsumeClaim, ok bool, err error) {
	c = ConsumeClaim{ConsumeKey: key, UserID: userID, Holder: holder}
	var doc sql.NullString
	var state string
	err = s.db.QueryRowContext(ctx, `INSERT INTO consume_claims (path, size_bytes, mtime_ns, user_id, holder, claimed_until_ns)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING document_id, state`,
		key.Path, key.Size, key.MtimeNS, userID, holder, until.UnixNano()).Scan(&doc, &state)
	if errors.Is(err, sql.ErrNoRows) {
		// Held already: taken over only when its lease ran out, when it is done (then any
		// replica may remove the file), or by its own holder coming back to it.
		err = s.db.QueryRowContext(ctx, `UPDATE consume_claims SET holder = $4, claimed_until_ns = $5
			WHERE path = $1 AND size_bytes = $2 AND mtime_ns = $3 AND (claimed_until_ns < $6 OR state = 'done' OR holder = $4)
			RETURNING document_id, state, user_id`,
			key.Path, key.Size, key.MtimeNS, holder, until.UnixNano(), now.UnixNano()).Scan(&doc, &state, &c.UserID)
		if errors.Is(err, sql.ErrNoRows) {
			return c, false, nil
		}
	}
	if err != nil {
		return c, false, fmt.Errorf("store: claim consume file %s: %w", key.Path, err)
	}
	c.DocumentID, c.Done = doc.String, state == "done"
	return c, true, nil
}

// SetConsumeDocument records, before any byte is stored, the pending document a claimed
// file is becoming; ErrConflict when holder no longer holds the claim.
func (s *Store) SetConsumeDocument(ctx context.Context, c ConsumeClaim, documentID string) error {
	return s.updateConsumeClaim(ctx, c, `document_id = $5`, documentID)
}

// FinishConsume marks a claimed file's document committed; ErrConflict when holder no
// longer holds the claim.
func (s *Store) FinishConsume(ctx context.Context, c ConsumeClaim) error {
	return s.updateConsumeClaim(ctx, c, `state = 'done', document_id = $5`, c.DocumentID)
}

// DeferConsume keeps the claim but lets any replica take the file again after until:
// a dependency failed, and the document (if any) may or may not have been committed.
func (s *Store) DeferConsume(ctx context.Context, c ConsumeClaim, until time.Time) error {
	return s.updateConsumeClaim(ctx, c, `claimed_until_ns = $5`, until.UnixNano())
}

func (s *Store) updateConsumeClaim(ctx context.Context, c ConsumeClaim, set string, v any) error {
	res, err := s.db.ExecContext(ctx, `UPDATE consume_claims SET `+set+`
		WHERE path = $1 AND size_bytes = $2 AND mtime_ns = $3 AND holder = $4`, c.Path, c.Size, c.MtimeNS, c.Holder, v)
	if err != nil {
		return fmt.Errorf("store: update consume claim %s: %w", c.Path, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: update consume claim %s: %w", c.Path, err)
	} else if n == 0 {
		return fmt.Errorf("store: consume claim %s taken over: %w", c.Path, ErrConflict)
	}
	return nil
}

// ForgetConsume drops the claim once its file has left the folder (removed after its
// document was committed, moved aside when refused, or gone before it was read).
func (s *Store) ForgetConsume(ctx context.Context, c ConsumeClaim) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM consume_claims WHERE path = $1 AND size_bytes = $2 AND mtime_ns = $3 AND holder = $4`,
		c.Path, c.Size, c.MtimeNS, c.Holder); err != nil {
		return fmt.Errorf("store: forget consume claim %s: %w", c.Path, err)
	}
	return nil
}

// ConsumeUsers lists the active accounts that own documents, by username: the ones that
// get a consume folder.
func (s *Store) ConsumeUsers(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT username, id FROM users WHERE is_active AND role = $1`, RoleUser)
	if err != nil {
		return nil, fmt.Errorf("store: consume users: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, id string
		if err := rows.Scan(&name, &id); err != nil {
			return nil, fmt.Errorf("store: consume users: %w", err)
		}
		out[name] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: consume users: %w", err)
	}
	return out, nil
}
