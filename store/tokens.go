package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// APIToken is a script's credential; only its SHA-256 hash is stored.
type APIToken struct {
	ID         string
	UserID     string
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
}

// CreateToken stores a token hash for the user, only while the user is active and still at
// epoch (the session epoch the request was authenticated at). A password change or a
// deactivation that commits while the request is in flight ends that epoch and revokes the
// user's tokens, so a token made by the old credentials must not be stored after it:
// ErrCredentialsChanged. On Postgres the user row is share-locked, so the insert either
// waits for a concurrent change and then sees the new epoch, or commits first and is
// deleted by the change's own revocation.
func (s *Store) CreateToken(ctx context.Context, userID string, epoch int, name, hash string, expiresAt *time.Time) (APIToken, error) {
	t := APIToken{ID: newID(), UserID: userID, Name: name, CreatedAt: s.Now(), ExpiresAt: expiresAt}
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR SHARE"
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at)
		SELECT $1, id, $3, $4, $5, $6 FROM users WHERE id = $2 AND session_epoch = $7 AND is_active = TRUE`+lock,
		t.ID, userID, name, hash, t.CreatedAt, nullTime(expiresAt), epoch)
	if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
		return APIToken{}, fmt.Errorf("store: create token: %w", ErrCredentialsChanged)
	} else if err != nil {
		return APIToken{}, fmt.Errorf("store: create token: %w", err)
	}
	return t, nil
}

// ListTokens lists the user's tokens, newest first.
func (s *Store) ListTokens(ctx context.Context, userID string) ([]APIToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_id, name, created_at, last_used_at, expires_at
		FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		var t APIToken
		var used, exp sql.NullTime
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.CreatedAt, &used, &exp); err != nil {
			return nil, fmt.Errorf("store: list tokens: %w", err)
		}
		t.CreatedAt, t.LastUsedAt, t.ExpiresAt = t.CreatedAt.UTC(), timePtr(used), timePtr(exp)
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken revokes one of the user's tokens.
func (s *Store) DeleteToken(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2`, id, userID)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("store: delete token: %w", err)
	}
	return nil
}

// UserByToken finds the active user owning an unexpired token, and notes its use at most
// once a minute (so a busy script does not write on every request).
func (s *Store) UserByToken(ctx context.Context, hash string) (User, error) {
	now := s.Now()
	var tokenID string
	var used sql.NullTime
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns("u.")+`, t.id, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)`, hash, now), &tokenID, &used)
	if err != nil {
		return User{}, err
	}
	if !used.Valid || now.Sub(used.Time) >= time.Minute {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, now, tokenID); err != nil {
			return User{}, fmt.Errorf("store: touch token: %w", err)
		}
	}
	return u, nil
}
