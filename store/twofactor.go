package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SetTOTPSecret stores a secret being set up (2FA stays off until EnableTOTP).
func (s *Store) SetTOTPSecret(ctx context.Context, userID, secret string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET totp_secret = $1, updated_at = $2 WHERE id = $3 AND totp_enabled = FALSE`,
		secret, s.Now(), userID)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("store: set totp secret: %w", err)
	}
	return nil
}

// EnableTOTP turns 2FA on and replaces the backup codes, in one transaction.
func (s *Store) EnableTOTP(ctx context.Context, userID string, step int64, codeHashes []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_enabled = TRUE, totp_last_step = $1, updated_at = $2
			WHERE id = $3 AND totp_enabled = FALSE AND totp_secret IS NOT NULL`, step, s.Now(), userID)
		if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
			return ErrConflict // already on, or no secret set up
		} else if err != nil {
			return err
		}
		return replaceBackupCodes(ctx, tx, userID, codeHashes)
	})
	if err != nil {
		return fmt.Errorf("store: enable totp: %w", err)
	}
	return nil
}

// DisableTOTP turns 2FA off and forgets the secret and the backup codes.
func (s *Store) DisableTOTP(ctx context.Context, userID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_enabled = FALSE, totp_secret = NULL, totp_last_step = 0,
			updated_at = $1 WHERE id = $2`, s.Now(), userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM backup_codes WHERE user_id = $1`, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: disable totp: %w", err)
	}
	return nil
}

// ReplaceBackupCodes voids the old codes and stores the new hashes.
func (s *Store) ReplaceBackupCodes(ctx context.Context, userID string, codeHashes []string) error {
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return replaceBackupCodes(ctx, tx, userID, codeHashes) }); err != nil {
		return fmt.Errorf("store: replace backup codes: %w", err)
	}
	return nil
}

func replaceBackupCodes(ctx context.Context, tx *sql.Tx, userID string, codeHashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM backup_codes WHERE user_id = $1`, userID); err != nil {
		return err
	}
	for _, h := range codeHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO backup_codes (user_id, code_hash) VALUES ($1, $2)`, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// UseBackupCode marks an unused code as used; false when there is no such unused code.
func (s *Store) UseBackupCode(ctx context.Context, userID, codeHash string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE backup_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL`,
		s.Now(), userID, codeHash)
	if err != nil {
		return false, fmt.Errorf("store: use backup code: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UseTOTPStep records that the code of time step was used; false when that step (or a later
// one) was already used, so a code cannot be replayed within its window.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, userID)
	if err != nil {
		return false, fmt.Errorf("store: use totp step: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
