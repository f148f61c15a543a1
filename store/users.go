package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// User is one account.
type User struct {
	ID                 string
	Username           string
	PasswordHash       string
	Role               string
	IsActive           bool
	PasswordMustChange bool
	TOTPSecret         string
	TOTPEnabled        bool
	TOTPLastStep       int64
	AIProvider         *string
	AIModel            *string
	SessionEpoch       int
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

var userColumnNames = []string{"id", "username", "password_hash", "role", "is_active", "password_must_change",
	"totp_secret", "totp_enabled", "totp_last_step", "ai_provider", "ai_model", "session_epoch", "created_at", "updated_at"}

// userColumns lists the user columns, each behind prefix (a table alias such as "u.").
func userColumns(prefix string) string {
	return prefix + strings.Join(userColumnNames, ", "+prefix)
}

type scanner interface{ Scan(dest ...any) error }

// scanUser reads the userColumns of a row, then extra columns into extra.
func scanUser(row scanner, extra ...any) (User, error) {
	var u User
	var provider, model, secret sql.NullString
	dest := append([]any{&u.ID, &u.Username, &u.PasswordHash, &u.Role, &u.IsActive, &u.PasswordMustChange,
		&secret, &u.TOTPEnabled, &u.TOTPLastStep, &provider, &model, &u.SessionEpoch, &u.CreatedAt, &u.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return User{}, notFound(err)
	}
	u.TOTPSecret = secret.String
	if provider.Valid {
		u.AIProvider = &provider.String
	}
	if model.Valid {
		u.AIModel = &model.String
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, nil
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Username           string
	PasswordHash       string
	Role               string
	PasswordMustChange bool
	LimitBytes         int64
}

// CreateUser inserts a user and its quota row; ErrConflict when the username is taken.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	now := s.Now()
	id := newID()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, username, password_hash, role, is_active,
			password_must_change, created_at, updated_at) VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6)`,
			id, nu.Username, nu.PasswordHash, nu.Role, nu.PasswordMustChange, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO quotas (user_id, limit_bytes, used_bytes) VALUES ($1, $2, 0)`, id, nu.LimitBytes)
		return err
	})
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("store: create user %q: %w", nu.Username, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return s.UserByID(ctx, id)
}

// UserByID finds a user.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns("")+` FROM users WHERE id = $1`+Prepared, id))
}

// UserByUsername finds a user by login name.
func (s *Store) UserByUsername(ctx context.Context, username string) (User, error) {
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns("")+` FROM users WHERE username = $1`, username))
}

// CountUsers counts all accounts.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// UserUsage is a user with what they store, for the admin list (never document names).
type UserUsage struct {
	User
	UsedBytes     int64
	LimitBytes    int64
	DocumentCount int64
}

// ListUsers returns every account with its usage, by username.
func (s *Store) ListUsers(ctx context.Context) ([]UserUsage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns("u.")+`, q.used_bytes, q.limit_bytes,
		(SELECT COUNT(*) FROM documents d WHERE d.user_id = u.id AND d.status <> 'pending')
		FROM users u JOIN quotas q ON q.user_id = u.id ORDER BY u.username`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []UserUsage
	for rows.Next() {
		var uu UserUsage
		var err error
		if uu.User, err = scanUser(rows, &uu.UsedBytes, &uu.LimitBytes, &uu.DocumentCount); err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, uu)
	}
	return out, rows.Err()
}

// UserPatch changes an account; nil fields stay as they are.
type UserPatch struct {
	IsActive   *bool
	Role       *string
	LimitBytes *int64
}

// UpdateUser applies p. Deactivation bumps the session epoch (every session ends) and
// revokes the user's API tokens. The last active admin cannot stop being one (ErrLastAdmin).
func (s *Store) UpdateUser(ctx context.Context, id string, p UserPatch) (User, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns("")+` FROM users WHERE id = $1`+s.forUpdate(), id))
		if err != nil {
			return err
		}
		losesAdmin := u.Role == RoleAdmin && u.IsActive &&
			((p.Role != nil && *p.Role != RoleAdmin) || (p.IsActive != nil && !*p.IsActive))
		if losesAdmin {
			if err := s.requireOtherAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		now := s.Now()
		if p.Role != nil && *p.Role != u.Role {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $1, session_epoch = session_epoch + 1, updated_at = $2 WHERE id = $3`, *p.Role, now, id); err != nil {
				return err
			}
		}
		if p.IsActive != nil && *p.IsActive != u.IsActive {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET is_active = $1, session_epoch = session_epoch + 1, updated_at = $2 WHERE id = $3`, *p.IsActive, now, id); err != nil {
				return err
			}
			if !*p.IsActive {
				if _, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, id); err != nil {
					return err
				}
			}
		}
		if p.LimitBytes != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE quotas SET limit_bytes = $1 WHERE user_id = $2`, *p.LimitBytes, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("store: update user: %w", err)
	}
	return s.UserByID(ctx, id)
}

// requireOtherAdmin fails with ErrLastAdmin unless an active admin other than id exists.
// On Postgres the admin rows are locked so two concurrent demotions cannot both pass.
func (s *Store) requireOtherAdmin(ctx context.Context, tx *sql.Tx, id string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE role = 'admin' AND is_active = TRUE AND id <> $1`+s.forUpdate(), id)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return ErrLastAdmin
	}
	return nil
}

// SetPassword stores a new hash, ends every session of the user (the caller renews its
// own) and revokes the user's API tokens, in one transaction: a credential that may have
// leaked with the old password does not outlive it.
func (s *Store) SetPassword(ctx context.Context, id, hash string, mustChange bool) (User, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, password_must_change = $2,
			session_epoch = session_epoch + 1, updated_at = $3 WHERE id = $4`, hash, mustChange, s.Now(), id)
		if err := affectedOne(res, err); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: set password: %w", err)
	}
	return s.UserByID(ctx, id)
}

// SetAISettings stores the user's classification provider and model (nil = server default).
func (s *Store) SetAISettings(ctx context.Context, id string, provider, model *string) (User, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET ai_provider = $1, ai_model = $2, updated_at = $3 WHERE id = $4`,
		provider, model, s.Now(), id)
	if err := affectedOne(res, err); err != nil {
		return User{}, fmt.Errorf("store: set ai settings: %w", err)
	}
	return s.UserByID(ctx, id)
}

// DeleteUser removes the account; its documents' objects go to the deletion outbox in the
// same transaction, so nothing is orphaned. It returns the object keys to delete now.
func (s *Store) DeleteUser(ctx context.Context, id string) ([]string, error) {
	var keys []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Rows are locked in the order uploads lock them, so a deletion racing an upload
		// waits instead of deadlocking on Postgres: the user row first (a new pending upload
		// inserts its document, whose foreign key takes the user row's key lock, before it
		// updates the quota row; once the user row is locked here, such an insert waits and
		// then finds the user gone), then the documents, then the quota row. The documents
		// are deleted again under the quota lock: one created meanwhile is gone too, and no
		// other can be created.
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns("")+` FROM users WHERE id = $1`+s.forUpdate(), id))
		if err != nil {
			return err
		}
		if u.Role == RoleAdmin && u.IsActive {
			if err := s.requireOtherAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if keys, err = deleteDocumentsWhere(ctx, tx, `user_id = $1`, id); err != nil {
			return err
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM quotas WHERE user_id = $1`+s.forUpdate(), id).Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		more, err := deleteDocumentsWhere(ctx, tx, `user_id = $1`, id)
		if err != nil {
			return err
		}
		keys = append(keys, more...)
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete user: %w", err)
	}
	return keys, nil
}

// forUpdate is the row-lock suffix: Postgres locks rows; SQLite's IMMEDIATE transactions
// already hold the write lock.
func (s *Store) forUpdate() string {
	if s.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
