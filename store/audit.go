package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuditEntry is one security event or admin action; it never holds a secret.
type AuditEntry struct {
	ID      string
	At      time.Time
	ActorID *string
	Action  string
	Target  string
	IP      string
}

// Audit appends an entry.
func (s *Store) Audit(ctx context.Context, actorID, action, target, ip string) error {
	var actor any
	if actorID != "" {
		actor = actorID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor_id, action, target, ip) VALUES ($1, $2, $3, $4, $5, $6)`,
		newID(), s.Now(), actor, action, target, ip)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// ListAudit pages through the log, newest first.
func (s *Store) ListAudit(ctx context.Context, after *Cursor, limit int) ([]AuditEntry, *Cursor, error) {
	args := []any{limit + 1}
	where := ""
	if after != nil {
		where = `WHERE (at, id) < ($2, $3)`
		args = append(args, after.At, after.ID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, actor_id, action, target, ip FROM audit_log `+where+`
		ORDER BY at DESC, id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var actor sql.NullString
		if err := rows.Scan(&e.ID, &e.At, &actor, &e.Action, &e.Target, &e.IP); err != nil {
			return nil, nil, fmt.Errorf("store: list audit: %w", err)
		}
		e.At = e.At.UTC()
		if actor.Valid {
			e.ActorID = &actor.String
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var next *Cursor
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = &Cursor{At: last.At, ID: last.ID}
	}
	return out, next, nil
}
