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
	db      pools
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

// A destroyed session (logout, a renewed token, a session ended by the server) is not
// deleted at once but emptied: a tombstone, data of zero bytes, kept for at least a day.
// scs saves a session at the end of every request (the idle timeout refreshes its
// expiry), so a request that loaded the session before it was destroyed and ends after
// would otherwise write it back, and a signed-out (stolen) cookie would work again.
// Commit never overwrites a tombstone, Find never returns one, and the expiry prune
// removes it like any other row.

// FindCtx returns a live session's data; found is false for an unknown, expired or
// destroyed token.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	q := `SELECT data FROM sessions WHERE token = $1 AND julianday('now') < expiry AND length(data) > 0` + Prepared
	if s.dialect == Postgres {
		q = `SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry AND octet_length(data) > 0` + Prepared
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

// CommitCtx writes a session's data and expiry, creating the row when it is new; a
// destroyed session's tombstone stays as it is.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	var err error
	if s.dialect == Postgres {
		_, err = s.db.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
			ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry
			WHERE octet_length(sessions.data) > 0`+Prepared, token, b, expiry)
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, julianday($3))
			ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry
			WHERE length(sessions.data) > 0`+Prepared,
			token, b, expiry.UTC().Format("2006-01-02T15:04:05.999"))
	}
	if err != nil {
		return fmt.Errorf("store: commit session: %w", err)
	}
	return nil
}

// DeleteCtx destroys a session, leaving its tombstone until a day from now at least (longer
// than any request can run).
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	q := `UPDATE sessions SET data = X'', expiry = MAX(expiry, julianday('now') + 1) WHERE token = $1`
	if s.dialect == Postgres {
		q = `UPDATE sessions SET data = ''::bytea, expiry = GREATEST(expiry, current_timestamp + interval '1 day') WHERE token = $1`
	}
	if _, err := s.db.ExecContext(ctx, q, token); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}
