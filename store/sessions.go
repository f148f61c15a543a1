package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SessionStore keeps the web sessions (scs) in the sessions table. Unlike scs's stock
// stores it passes each request's context to the database, so a hung database ends a
// signed-in request at its deadline instead of holding it forever.
type SessionStore struct {
	db      *sql.DB
	dialect string
}

// Sessions returns the session store of this database, in the layout scs's sqlite3store
// and postgresstore use (expiry as a Julian day on SQLite, a timestamp on Postgres).
func (s *Store) Sessions() *SessionStore { return &SessionStore{db: s.db, dialect: s.dialect} }

// Find is FindCtx without a deadline (scs's Store interface).
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a deadline.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a deadline.
func (s *SessionStore) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// FindCtx returns a live session's data; found is false for an unknown or expired token.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	q := `SELECT data FROM sessions WHERE token = $1 AND julianday('now') < expiry`
	if s.dialect == Postgres {
		q = `SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry`
	}
	var b []byte
	err := s.db.QueryRowContext(ctx, q, token).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: find session: %w", err)
	}
	return b, true, nil
}

// CommitCtx writes a session's data and expiry, creating the row when it is new.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	var err error
	if s.dialect == Postgres {
		_, err = s.db.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
			ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry`, token, b, expiry)
	} else {
		_, err = s.db.ExecContext(ctx, `REPLACE INTO sessions (token, data, expiry) VALUES ($1, $2, julianday($3))`,
			token, b, expiry.UTC().Format("2006-01-02T15:04:05.999"))
	}
	if err != nil {
		return fmt.Errorf("store: commit session: %w", err)
	}
	return nil
}

// DeleteCtx removes a session.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, token); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}
