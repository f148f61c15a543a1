package store

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotSQLite means the operation is for SQLite installs only.
var ErrNotSQLite = errors.New("backups of Postgres are made with pg_dump")

// BackupTo writes a consistent copy of a live SQLite database to path (VACUUM INTO), without
// stopping writers.
func (s *Store) BackupTo(ctx context.Context, path string) error {
	if s.dialect != SQLite {
		return ErrNotSQLite
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO $1`, path); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}
