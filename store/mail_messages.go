package store

import (
	"context"
	"fmt"
)

// MailKey names one message in an account's folder: UIDs are only meaningful within one
// UIDVALIDITY.
type MailKey struct {
	AccountID   string
	UIDValidity uint32
	UID         uint32
}

// States of a recorded mail message.
const (
	MailDone    = "done"    // every attachment committed; the after-action is still to apply
	MailActed   = "acted"   // the after-action was applied: nothing left to do
	MailRefused = "refused" // an attachment was refused: left on the server, never retried
	MailFailed  = "failed"  // unreadable: left on the server, never retried
)

// MailPart is what one attachment of a message became.
type MailPart struct {
	DocumentID string
	State      string // pending | done | refused
	Error      string
}

// MailMessage is the recorded state of one message.
type MailMessage struct {
	State string
	Error string // why it was refused or failed
}

// MailMessages gives the recorded state of each message of an account's folder under
// uidValidity, by UID.
func (s *Store) MailMessages(ctx context.Context, accountID string, uidValidity uint32) (map[uint32]MailMessage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT uid, state, error FROM mail_messages WHERE account_id = $1 AND uid_validity = $2`,
		accountID, int64(uidValidity))
	if err != nil {
		return nil, fmt.Errorf("store: mail messages: %w", err)
	}
	defer rows.Close()
	out := map[uint32]MailMessage{}
	for rows.Next() {
		var uid int64
		var m MailMessage
		if err := rows.Scan(&uid, &m.State, &m.Error); err != nil {
			return nil, fmt.Errorf("store: mail messages: %w", err)
		}
		out[uint32(uid)] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: mail messages: %w", err)
	}
	return out, nil
}

// MailMessageIDSeen tells whether the account already imported a message with this
// Message-ID under another UID (a copy, or a folder whose UIDVALIDITY changed). A refused
// or unreadable one does not count: its copy is tried on its own.
func (s *Store) MailMessageIDSeen(ctx context.Context, k MailKey, messageID string) (bool, error) {
	if messageID == "" {
		return false, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_messages WHERE account_id = $1 AND message_id = $2
		AND state IN ('done', 'acted') AND NOT (uid_validity = $3 AND uid = $4)`, k.AccountID, messageID, int64(k.UIDValidity), int64(k.UID)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: mail message-id: %w", err)
	}
	return n > 0, nil
}

// RecordMailMessage sets a message's state (inserting its row the first time).
func (s *Store) RecordMailMessage(ctx context.Context, k MailKey, messageID, state, problem string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO mail_messages (account_id, uid_validity, uid, message_id, state, error, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_id, uid_validity, uid) DO UPDATE SET state = excluded.state, error = excluded.error`,
		k.AccountID, int64(k.UIDValidity), int64(k.UID), messageID, state, problem, s.Now())
	if err != nil {
		return fmt.Errorf("store: record mail message: %w", err)
	}
	return nil
}

// MailParts gives what each attachment of a message became so far, by its ordinal.
func (s *Store) MailParts(ctx context.Context, k MailKey) (map[int]MailPart, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT part, document_id, state, error FROM mail_parts
		WHERE account_id = $1 AND uid_validity = $2 AND uid = $3`, k.AccountID, int64(k.UIDValidity), int64(k.UID))
	if err != nil {
		return nil, fmt.Errorf("store: mail parts: %w", err)
	}
	defer rows.Close()
	out := map[int]MailPart{}
	for rows.Next() {
		var n int
		var p MailPart
		if err := rows.Scan(&n, &p.DocumentID, &p.State, &p.Error); err != nil {
			return nil, fmt.Errorf("store: mail parts: %w", err)
		}
		out[n] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: mail parts: %w", err)
	}
	return out, nil
}

// RecordMailPart sets what attachment part of a message became: pending with its document
// id before any byte is stored, then done or refused.
func (s *Store) RecordMailPart(ctx context.Context, k MailKey, part int, p MailPart) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO mail_parts (account_id, uid_validity, uid, part, document_id, state, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_id, uid_validity, uid, part) DO UPDATE SET document_id = excluded.document_id,
		state = excluded.state, error = excluded.error`,
		k.AccountID, int64(k.UIDValidity), int64(k.UID), part, p.DocumentID, p.State, p.Error)
	if err != nil {
		return fmt.Errorf("store: record mail part: %w", err)
	}
	return nil
}
