package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Upload claim errors: why a local upload URL no longer takes bytes.
var (
	// ErrUploadUsed is an upload URL whose body was already received (or is streaming).
	ErrUploadUsed = errors.New("upload URL already used")
	// ErrUploadClosed is an upload URL of a document no longer pending (confirmed, deleted,
	// discarded or expired).
	ErrUploadClosed = errors.New("upload no longer accepted")
)

// UploadClaim is a pending document whose body one request is now receiving.
type UploadClaim struct {
	DocumentID   string
	UserID       string
	ObjectKey    string
	DeclaredSize int64
}

// ClaimUpload takes the one-time right to write the bytes of the pending document whose
// object key is objectKey, with one conditional UPDATE, before any byte is written. A second
// use is ErrUploadUsed; a document no longer pending is ErrUploadClosed.
func (s *Store) ClaimUpload(ctx context.Context, objectKey string) (UploadClaim, error) {
	c := UploadClaim{ObjectKey: objectKey}
	err := s.write(ctx, func(q execer) error {
		return q.QueryRowContext(ctx, `UPDATE documents SET upload_state = 'receiving'
		WHERE object_key = $1 AND status = 'pending' AND upload_state IS NULL RETURNING id, user_id, size_bytes`+Prepared,
			objectKey).Scan(&c.DocumentID, &c.UserID, &c.DeclaredSize)
	})
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("store: claim upload: %w", err)
	}
	var status string
	err = s.db.QueryRowContext(ctx, `SELECT status FROM documents WHERE object_key = $1`, objectKey).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && status != StatusPending):
		return c, fmt.Errorf("store: claim upload: %w", ErrUploadClosed)
	case err != nil:
		return c, fmt.Errorf("store: claim upload: %w", err)
	}
	return c, fmt.Errorf("store: claim upload: %w", ErrUploadUsed)
}

// ReleaseUpload gives a claim back after a failed stream, so the URL can be used again.
func (s *Store) ReleaseUpload(ctx context.Context, c UploadClaim) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE documents SET upload_state = NULL
		WHERE id = $1 AND upload_state = 'receiving'`, c.DocumentID); err != nil {
		return fmt.Errorf("store: release upload: %w", err)
	}
	return nil
}

// FinishUpload marks a claimed upload received and records the SHA-256 of its bytes. A
// document deleted or expired while its body streamed is ErrUploadClosed: nothing refers to
// the bytes just written, and the caller removes them.
func (s *Store) FinishUpload(ctx context.Context, c UploadClaim, sum string) error {
	err := s.write(ctx, func(q execer) error {
		res, err := q.ExecContext(ctx, `UPDATE documents SET upload_state = 'received', sha256 = COALESCE(sha256, $1) WHERE id = $2`+Prepared,
			nullIfEmpty(sum), c.DocumentID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		return sql.ErrNoRows
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrUploadClosed
	}
	if err != nil {
		return fmt.Errorf("store: finish upload: %w", err)
	}
	return nil
}

// Upload is what a confirm needs of a document: its status, object key and size (the size
// its upload reserved while it is pending).
type Upload struct {
	Status    string
	ObjectKey string
	SizeBytes int64
}

// UploadOf reads the upload of the user's document id, with one indexed read: ErrNotFound
// for another user's document or none.
func (s *Store) UploadOf(ctx context.Context, userID, id string) (Upload, error) {
	var u Upload
	err := s.db.QueryRowContext(ctx, `SELECT status, object_key, size_bytes FROM documents WHERE id = $1 AND user_id = $2`+Prepared,
		id, userID).Scan(&u.Status, &u.ObjectKey, &u.SizeBytes)
	if err != nil {
		return u, fmt.Errorf("store: upload: %w", notFound(err))
	}
	return u, nil
}

// ConfirmLease is the right, until Until, to confirm one pending upload; it carries what a
// confirm needs of the pending row, so the confirm reads nothing else before its update.
type ConfirmLease struct {
	Until        time.Time
	ObjectKey    string
	DeclaredSize int64 // the bytes the upload reserved; see ConfirmReserved
}

// LeaseConfirm takes, for d, the right to move a pending upload's staging object into place
// and confirm it: a conditional UPDATE of the pending row, so confirms of one upload run one
// at a time across requests and replicas. Without it, a confirm that saw the upload pending
// could move a staging object rewritten after another confirm finished (a presigned URL can
// be replayed) over the confirmed bytes. ok is false while another confirm holds the lease,
// once the document is no longer pending, or for a document that is not the user's. The
// lease ends with the confirm, with ReleaseConfirm, or after d.
func (s *Store) LeaseConfirm(ctx context.Context, userID, id string, d time.Duration) (lease ConfirmLease, ok bool, err error) {
	now := s.Now()
	lease.Until = now.Add(d)
	err = s.db.QueryRowContext(ctx, `UPDATE documents SET claimed_until = $1
		WHERE id = $2 AND user_id = $3 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $4)
		RETURNING object_key, size_bytes`+Prepared, lease.Until, id, userID, now).Scan(&lease.ObjectKey, &lease.DeclaredSize)
	switch {
	case err == nil:
		return lease, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return lease, false, nil
	}
	return lease, false, fmt.Errorf("store: lease confirm: %w", err)
}

// ReleaseConfirm gives back a confirm lease after a confirm that did not happen.
func (s *Store) ReleaseConfirm(ctx context.Context, id string, until time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE documents SET claimed_until = NULL WHERE id = $1 AND status = 'pending' AND claimed_until = $2`,
		id, until); err != nil {
		return fmt.Errorf("store: release confirm: %w", err)
	}
	return nil
}

// DocumentChecksum is the recorded SHA-256 of a document's bytes ("" if none yet).
func (s *Store) DocumentChecksum(ctx context.Context, id string) (string, error) {
	var sum sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT sha256 FROM documents WHERE id = $1`, id).Scan(&sum); err != nil {
		return "", fmt.Errorf("store: document checksum: %w", notFound(err))
	}
	return sum.String, nil
}
