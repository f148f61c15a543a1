package store

import (
	"context"
	"fmt"
)

// Secret returns the shared secret called name, storing generate()'s value the first time,
// so that every replica of one database uses the same one.
func (s *Store) Secret(ctx context.Context, name string, generate func() string) (string, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, generate()); err != nil {
		return "", fmt.Errorf("store: secret %s: %w", name, err)
	}
	var v string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM app_secrets WHERE name = $1`, name).Scan(&v); err != nil {
		return "", fmt.Errorf("store: secret %s: %w", name, err)
	}
	return v, nil
}
