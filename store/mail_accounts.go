package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MailAccount is one IMAP account a user imports mail attachments from. PasswordEnc is
// ciphertext (see package intake); the plain password never reaches the database.
type MailAccount struct {
	ID            string
	UserID        string
	Host          string
	Port          int
	TLSMode       string // tls | starttls | none
	Username      string
	PasswordEnc   string
	Folder        string
	AfterAction   string // mark_read | delete | move:<folder>
	FromFilter    string
	SubjectFilter string
	ImportBody    string // none | text
	Enabled       bool
	LastPolledAt  *time.Time
	LastError     string
	LastErrorAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// NewMailAccountID gives the id of an account about to be created, so its password can be
// sealed to it before the row exists.
func NewMailAccountID() string { return newID() }

const mailAccountCols = `id, user_id, host, port, tls_mode, username, password_enc, folder, after_action,
	from_filter, subject_filter, import_body, enabled, last_polled_at, last_error, last_error_at, created_at, updated_at`

func scanMailAccount(row interface{ Scan(...any) error }) (MailAccount, error) {
	var a MailAccount
	var polled, errAt sql.NullTime
	err := row.Scan(&a.ID, &a.UserID, &a.Host, &a.Port, &a.TLSMode, &a.Username, &a.PasswordEnc, &a.Folder, &a.AfterAction,
		&a.FromFilter, &a.SubjectFilter, &a.ImportBody, &a.Enabled, &polled, &a.LastError, &errAt, &a.CreatedAt, &a.UpdatedAt)
	a.LastPolledAt, a.LastErrorAt = timePtr(polled), timePtr(errAt)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, err
}

// CreateMailAccount stores a new account of a.UserID (a.ID set by NewMailAccountID).
func (s *Store) CreateMailAccount(ctx context.Context, a MailAccount) (MailAccount, error) {
	if a.ID == "" {
		a.ID = newID()
	}
	a.CreatedAt = s.Now()
	a.UpdatedAt = a.CreatedAt
	_, err := s.db.ExecContext(ctx, `INSERT INTO mail_accounts (id, user_id, host, port, tls_mode, username, password_enc,
		folder, after_action, from_filter, subject_filter, import_body, enabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
		a.ID, a.UserID, a.Host, a.Port, a.TLSMode, a.Username, a.PasswordEnc, a.Folder, a.AfterAction,
		a.FromFilter, a.SubjectFilter, a.ImportBody, a.Enabled, a.CreatedAt)
	if err != nil {
		return MailAccount{}, fmt.Errorf("store: create mail account: %w", err)
	}
	return a, nil
}

// MailAccount reads one account of userID; ErrNotFound for another user's.
func (s *Store) MailAccount(ctx context.Context, userID, id string) (MailAccount, error) {
	a, err := scanMailAccount(s.db.QueryRowContext(ctx, `SELECT `+mailAccountCols+` FROM mail_accounts WHERE id = $1 AND user_id = $2`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("store: mail account %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: mail account %s: %w", id, err)
	}
	return a, nil
}

// ListMailAccounts lists userID's accounts, oldest first.
func (s *Store) ListMailAccounts(ctx context.Context, userID string) ([]MailAccount, error) {
	return s.queryMailAccounts(ctx, `SELECT `+mailAccountCols+` FROM mail_accounts WHERE user_id = $1 ORDER BY created_at, id`, userID)
}

// MailAccountsToPoll lists the enabled accounts of active users, the poller's work list.
func (s *Store) MailAccountsToPoll(ctx context.Context) ([]MailAccount, error) {
	return s.queryMailAccounts(ctx, `SELECT `+prefixed("a.", mailAccountCols)+` FROM mail_accounts a JOIN users u ON u.id = a.user_id
		WHERE a.enabled AND u.is_active ORDER BY a.last_polled_at IS NOT NULL, a.last_polled_at, a.id`)
}

// AllMailAccounts lists every account (the rekey command).
func (s *Store) AllMailAccounts(ctx context.Context) ([]MailAccount, error) {
	return s.queryMailAccounts(ctx, `SELECT `+mailAccountCols+` FROM mail_accounts ORDER BY id`)
}

func (s *Store) queryMailAccounts(ctx context.Context, q string, args ...any) ([]MailAccount, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list mail accounts: %w", err)
	}
	defer rows.Close()
	out := []MailAccount{}
	for rows.Next() {
		a, err := scanMailAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list mail accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list mail accounts: %w", err)
	}
	return out, nil
}

// UpdateMailAccount writes every setting of a (not its poll status); ErrNotFound for
// another user's account.
func (s *Store) UpdateMailAccount(ctx context.Context, a MailAccount) (MailAccount, error) {
	a.UpdatedAt = s.Now()
	res, err := s.db.ExecContext(ctx, `UPDATE mail_accounts SET host = $3, port = $4, tls_mode = $5, username = $6,
		password_enc = $7, folder = $8, after_action = $9, from_filter = $10, subject_filter = $11, import_body = $12,
		enabled = $13, updated_at = $14 WHERE id = $1 AND user_id = $2`,
		a.ID, a.UserID, a.Host, a.Port, a.TLSMode, a.Username, a.PasswordEnc, a.Folder, a.AfterAction,
		a.FromFilter, a.SubjectFilter, a.ImportBody, a.Enabled, a.UpdatedAt)
	if err := affectedOne(res, err); err != nil {
		return MailAccount{}, fmt.Errorf("store: update mail account %s: %w", a.ID, err)
	}
	return s.MailAccount(ctx, a.UserID, a.ID)
}

// SetMailPassword replaces the sealed password of an account (key rotation), only if it
// is still old (a concurrent edit wins).
func (s *Store) SetMailPassword(ctx context.Context, id, old, sealed string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE mail_accounts SET password_enc = $3 WHERE id = $1 AND password_enc = $2`, id, old, sealed); err != nil {
		return fmt.Errorf("store: set mail password %s: %w", id, err)
	}
	return nil
}

// DeleteMailAccount removes an account and its import records (the documents stay).
func (s *Store) DeleteMailAccount(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mail_accounts WHERE id = $1 AND user_id = $2`, id, userID)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("store: delete mail account %s: %w", id, err)
	}
	return nil
}

// ClaimMailAccount holds an account for one poll until until, unless another replica's
// hold runs past now: false means someone else is polling it.
func (s *Store) ClaimMailAccount(ctx context.Context, id string, until, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE mail_accounts SET claimed_until_ns = $2 WHERE id = $1 AND claimed_until_ns < $3`,
		id, until.UnixNano(), now.UnixNano())
	if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("store: claim mail account %s: %w", id, err)
	}
	return true, nil
}

// FinishMailPoll records a poll's outcome and releases the hold; problem "" clears the
// account's error.
func (s *Store) FinishMailPoll(ctx context.Context, id, problem string, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	var err error
	if problem == "" {
		_, err = s.db.ExecContext(ctx, `UPDATE mail_accounts SET last_polled_at = $2, last_error = '', last_error_at = NULL,
			claimed_until_ns = 0 WHERE id = $1`, id, at)
	} else {
		_, err = s.db.ExecContext(ctx, `UPDATE mail_accounts SET last_polled_at = $2, last_error = $3, last_error_at = $2,
			claimed_until_ns = 0 WHERE id = $1`, id, at, problem)
	}
	if err != nil {
		return fmt.Errorf("store: finish mail poll %s: %w", id, err)
	}
	return nil
}

func prefixed(p, cols string) string {
	out := []byte{}
	start := true
	for i := 0; i < len(cols); i++ {
		c := cols[i]
		if start && c != ' ' && c != '\t' && c != '\n' {
			out = append(out, p...)
			start = false
		}
		out = append(out, c)
		if c == ',' {
			start = true
		}
	}
	return string(out)
}
