package store

import (
	"context"
	"fmt"
	"strings"
)

// UserByIdentity finds the user a provider's (issuer, subject) is linked to.
func (s *Store) UserByIdentity(ctx context.Context, issuer, subject string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns("u.")+` FROM user_identities i
		JOIN users u ON u.id = i.user_id WHERE i.issuer = $1 AND i.subject = $2`, issuer, subject))
	if err != nil {
		return User{}, fmt.Errorf("store: user by identity: %w", err)
	}
	return u, nil
}

// UserByEmail finds the user with this address (case does not matter).
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns("")+` FROM users WHERE lower(email) = $1`, strings.ToLower(email)))
	if err != nil {
		return User{}, fmt.Errorf("store: user by email: %w", err)
	}
	return u, nil
}

// LinkIdentity links a provider's (issuer, subject) to a user; ErrConflict when it is
// linked to someone already.
func (s *Store) LinkIdentity(ctx context.Context, userID, issuer, subject string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO user_identities (issuer, subject, user_id) VALUES ($1, $2, $3)`, issuer, subject, userID)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: link identity: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: link identity: %w", err)
	}
	return nil
}

// SetEmail records the address a first single sign-on login is linked by ("" clears it);
// ErrConflict when another user has it.
func (s *Store) SetEmail(ctx context.Context, userID, email string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET email = $1 WHERE id = $2`, nullIfEmpty(email), userID)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: set email: %w", ErrConflict)
	}
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("store: set email: %w", err)
	}
	return nil
}
