package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"regexp"
	"sort"

	"github.com/maragudk/migrate"

	"github.com/docuvault/docuvault/migrations"
)

var upFile = regexp.MustCompile(`^(.+)\.up\.sql$`)

func (s *Store) migrator() (*migrate.Migrator, fs.FS, error) {
	fsys, err := migrations.FS(s.dialect)
	if err != nil {
		return nil, nil, err
	}
	return migrate.New(migrate.Options{DB: s.db.DB, FS: fsys}), fsys, nil
}

// steppingMigrator is a migrator whose every step first checks, inside the step's own
// transaction, that the database is still at the version the step starts from (see
// checkStep), and whose up steps run their Go part (see afterUp).
func (s *Store) steppingMigrator(up bool) (*migrate.Migrator, error) {
	fsys, err := migrations.FS(s.dialect)
	if err != nil {
		return nil, err
	}
	known, err := s.Versions()
	if err != nil {
		return nil, err
	}
	opts := migrate.Options{DB: s.db.DB, FS: fsys, Before: func(ctx context.Context, tx *sql.Tx, version string) error {
		return s.checkStep(ctx, tx, known, version, up)
	}}
	if up {
		opts.After = s.afterUp
	}
	return migrate.New(opts), nil
}

// Versions lists the schema versions this binary knows, oldest first.
func (s *Store) Versions() ([]string, error) {
	_, fsys, err := s.migrator()
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if m := upFile.FindStringSubmatch(e.Name()); m != nil {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out, nil
}

// SchemaVersion is the version the database is at ("" for an empty database).
func (s *Store) SchemaVersion(ctx context.Context) (string, error) {
	var exists bool
	q := `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations')`
	if s.dialect == Postgres {
		q = `SELECT to_regclass('migrations') IS NOT NULL`
	}
	if err := s.db.QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return "", fmt.Errorf("store: schema version: %w", err)
	}
	if !exists {
		return "", nil
	}
	var v string
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM migrations`).Scan(&v); err != nil {
		return "", fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// SchemaStatus is the database's version and the versions this binary knows, oldest first.
func (s *Store) SchemaStatus(ctx context.Context) (current string, known []string, err error) {
	if current, err = s.SchemaVersion(ctx); err != nil {
		return "", nil, err
	}
	known, err = s.Versions()
	return current, known, err
}

// CheckSchema refuses a database whose schema is newer than this binary knows.
func (s *Store) CheckSchema(ctx context.Context) error {
	current, known, err := s.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	if len(known) > 0 && current > known[len(known)-1] {
		return fmt.Errorf("%w: database at %s, binary knows up to %s", ErrSchemaTooNew, current, known[len(known)-1])
	}
	return nil
}

// MigrateUp applies every migration newer than the database. Replicas that start together
// take turns (see withMigrationLock), and the later ones find nothing left to do.
func (s *Store) MigrateUp(ctx context.Context) error {
	return s.withMigrationLock(ctx, func() error {
		return retryRaced(ctx, func() error {
			if err := s.CheckSchema(ctx); err != nil {
				return err
			}
			m, err := s.steppingMigrator(true)
			if err != nil {
				return err
			}
			if err := m.MigrateUp(ctx); err != nil {
				return fmt.Errorf("store: migrate up: %w", err)
			}
			return nil
		})
	})
}

// MigrateTo moves the schema up or down to version.
func (s *Store) MigrateTo(ctx context.Context, version string) error {
	return s.withMigrationLock(ctx, func() error {
		return retryRaced(ctx, func() error {
			current, err := s.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			if err := s.refuseOutboxLoss(ctx, current, version); err != nil {
				return err
			}
			m, err := s.steppingMigrator(version >= current)
			if err != nil {
				return err
			}
			if err := m.MigrateTo(ctx, version); err != nil {
				return fmt.Errorf("store: migrate to %s: %w", version, err)
			}
			return nil
		})
	})
}

// MigrateDownOne reverts the newest applied migration and returns the version now current.
func (s *Store) MigrateDownOne(ctx context.Context) (string, error) {
	var target string
	err := s.withMigrationLock(ctx, func() error {
		current, err := s.SchemaVersion(ctx)
		if err != nil || current == "" {
			return err
		}
		known, err := s.Versions()
		if err != nil {
			return err
		}
		i := sort.SearchStrings(known, current)
		if i == len(known) || known[i] != current {
			return fmt.Errorf("store: migrate down: unknown current version %s", current)
		}
		if i > 0 {
			target = known[i-1]
		}
		if err := s.refuseOutboxLoss(ctx, current, target); err != nil {
			return err
		}
		m, err := s.steppingMigrator(false)
		if err != nil {
			return err
		}
		if target == "" {
			err = m.MigrateDown(ctx)
		} else {
			err = m.MigrateTo(ctx, target)
		}
		if err != nil {
			return fmt.Errorf("store: migrate down: %w", err)
		}
		return nil
	})
	return target, err
}

// MigrateUpAndDrain migrates up, then drains the deletion outbox against blobs (0003 queues
// the objects of ownerless documents). A blob store that is down does not undo the
// migration: the keys stay queued for the scheduled drain and the next start.
func (s *Store) MigrateUpAndDrain(ctx context.Context, blobs ObjectDeleter) error {
	if err := s.MigrateUp(ctx); err != nil {
		return err
	}
	for {
		res, err := s.DrainDeletions(ctx, blobs, 500)
		if err != nil {
			return err
		}
		if res.Failed > 0 || res.Deleted < 500 {
			return nil
		}
	}
}
