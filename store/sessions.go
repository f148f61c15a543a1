package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// SessionStore keeps the web sessions (scs) in the sessions table. Unlike scs's stock
// stores it passes each request's context to the database, so a hung database ends a
// signed-in request at its deadline instead of holding it forever.
//
// scs saves a session at the end of every request, if only to move its idle expiry; that
// was a database write for every signed-in request, a GET of one document included. With a
// refresh interval, a save whose data is the same as the request found and whose expiry
// moves less than the interval is left out: the stored expiry then lags the idle timeout by
// less than the interval. A save that changes the data is always written.
type SessionStore struct {
	db      pools
	dialect string
	refresh time.Duration
	found   foundSessions
}

// Sessions returns the session store of this database, in the layout scs's sqlite3store
// and postgresstore use (expiry as a Julian day on SQLite, a timestamp on Postgres). It
// leaves out saves that only move a session's expiry by less than refresh (0: every save is
// written); the data must be encoded the same way each time for a save to be seen as
// unchanged. Keep one per process: it remembers what requests found.
func (s *Store) Sessions(refresh time.Duration) *SessionStore {
	return &SessionStore{db: s.db, dialect: s.dialect, refresh: refresh}
}

// foundSessions remembers what FindCtx read of each session until the request saves it.
type foundSessions struct {
	mu sync.Mutex
	m  map[string]foundSession
}

type foundSession struct {
	data   []byte
	expiry time.Time
}

// maxFoundSessions bounds foundSessions: a request that loads a session and never saves it
// leaves an entry, and past this many they are all dropped (the next saves are written).
const maxFoundSessions = 10000

func (f *foundSessions) put(token string, data []byte, expiry time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil || len(f.m) >= maxFoundSessions {
		f.m = map[string]foundSession{}
	}
	f.m[token] = foundSession{data: data, expiry: expiry}
}

func (f *foundSessions) take(token string) (foundSession, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[token]
	delete(f.m, token)
	return v, ok
}

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
	if strings.ContainsRune(token, 0) || !utf8.ValidString(token) {
		return nil, false, nil // no session has such a token; PostgreSQL would refuse the text
	}
	// The expiry comes back as seconds since 1970 on both databases.
	q := `SELECT data, (expiry - 2440587.5) * 86400.0 FROM sessions WHERE token = $1 AND julianday('now') < expiry AND length(data) > 0` + Prepared
	if s.dialect == Postgres {
		q = `SELECT data, extract(epoch FROM expiry)::float8 FROM sessions WHERE token = $1 AND current_timestamp < expiry AND octet_length(data) > 0` + Prepared
	}
	var b []byte
	var secs float64
	err := s.db.QueryRowContext(ctx, q, token).Scan(&b, &secs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: find session: %w", err)
	}
	if s.refresh > 0 {
		s.found.put(token, b, time.UnixMicro(int64(secs*1e6)))
	}
	return b, true, nil
}

// CommitCtx writes a session's data and expiry, creating the row when it is new; a
// destroyed session's tombstone stays as it is.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if s.refresh > 0 {
		if f, ok := s.found.take(token); ok && bytes.Equal(f.data, b) && (expiry.Sub(f.expiry)).Abs() < s.refresh {
			return nil
		}
	}
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
