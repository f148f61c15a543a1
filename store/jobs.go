package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Job is a document claimed for classification. Lease identifies the claim: only the
// worker holding it can finish, fail or release the document.
type Job struct {
	DocumentID  string
	UserID      string
	Filename    string
	ContentType string
	ObjectKey   string
	SizeBytes   int64
	Attempts    int
	Lease       time.Time
	SHA256      string // the recorded checksum of its bytes, "" while none is
	Text        string // text already stored (one that came with an import), kept as is
}

// ErrLeaseLost means another worker claimed the document after this worker's lease ran out.
var ErrLeaseLost = fmt.Errorf("classification lease lost: %w", ErrConflict)

// ClaimNext claims the next uploaded document that is due and unclaimed (or whose lease
// expired), for lease. Postgres skips rows other replicas hold (FOR UPDATE SKIP LOCKED);
// SQLite's single conditional UPDATE runs under the database write lock. ErrNotFound when
// nothing is waiting.
func (s *Store) ClaimNext(ctx context.Context, lease time.Duration) (Job, error) {
	now := s.Now()
	until := now.Add(lease)
	var j Job
	claim := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) error {
		return q.QueryRowContext(ctx, `UPDATE documents SET claimed_until = $1, attempts = attempts + 1
		WHERE id = (SELECT id FROM documents
			WHERE status = 'uploaded' AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)
			ORDER BY next_attempt_at, id LIMIT 1`+s.skipLocked()+`)
		RETURNING id, user_id, filename, content_type, object_key, size_bytes, attempts, COALESCE(sha256, ''), text`+Prepared, until, now).
			Scan(&j.DocumentID, &j.UserID, &j.Filename, &j.ContentType, &j.ObjectKey, &j.SizeBytes, &j.Attempts, &j.SHA256, &j.Text)
	}
	var err error
	if s.dialect == Postgres {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			if err := s.commitLazily(ctx, tx); err != nil {
				return err
			}
			return claim(tx)
		})
	} else {
		err = claim(s.db) // one statement, committed by itself (SQLite's WAL commit syncs nothing)
	}
	if err != nil {
		return Job{}, notFound(err)
	}
	j.Lease = until
	return j, nil
}

// commitLazily lets PostgreSQL acknowledge tx's commit before its WAL reaches the disk
// (synchronous_commit off for this transaction only): claims and finished classifications
// are work that can be redone. A database crash can forget the last moments of them, never
// half of one, and only until any later durable commit, which flushes them too: the
// document is then claimed or classified again, a lease guarding every finish as always.
// Waiting for the disk twice per document would otherwise bound the pool by the disk's
// flush rate. SQLite in WAL mode with synchronous=NORMAL already commits without syncing.
func (s *Store) commitLazily(ctx context.Context, tx *sql.Tx) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`)
	return err
}

// leaseHeld tells whether a lease-guarded UPDATE found its row: ErrLeaseLost when it matched
// none, the database's own error when it failed (a failure is not a lost lease: the caller
// must not give up a document it still holds).
func leaseHeld(res sql.Result, err error) error {
	err = affectedOne(res, err)
	if errors.Is(err, ErrNotFound) {
		return ErrLeaseLost
	}
	return err
}

// skipLocked is the dialect piece of claiming: Postgres lets concurrent claimers pass each other.
func (s *Store) skipLocked() string {
	if s.dialect == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// Assignment is a topic chosen for a document by a provider: assigned, or (Suggested) only
// offered to the user because it did not clear the threshold.
type Assignment struct {
	TopicID    string
	Confidence float64
	Suggested  bool
}

// CompleteJob stores the classification: the extracted text, the provider's topics (only
// system topics or the owner's own are written, whatever the caller passes) and a note
// (nil when extraction went well). Topics users set by hand stay, and while a document has
// any, the provider's topics are not added: the user has decided.
func (s *Store) CompleteJob(ctx context.Context, j Job, text string, topics []Assignment, note *string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.commitLazily(ctx, tx); err != nil {
			return err
		}
		// A text stored meanwhile (an import's, set after its upload was queued) wins over
		// the extracted one. The same statement tells what the document holds already, so a
		// first classification (the usual case) deletes and counts nothing.
		var hasAuto, hasManual, hasSuggestions bool
		err := tx.QueryRowContext(ctx, `UPDATE documents SET status = 'classified', text = CASE WHEN text = '' THEN $1 ELSE text END, error = $2, classified_at = $3,
			claimed_until = NULL, next_attempt_at = NULL WHERE id = $4 AND claimed_until = $5 AND status = 'uploaded'
			RETURNING EXISTS (SELECT 1 FROM document_topics WHERE document_id = $4 AND source = 'ai'),
				EXISTS (SELECT 1 FROM document_topics WHERE document_id = $4 AND source <> 'ai'),
				EXISTS (SELECT 1 FROM document_suggestions WHERE document_id = $4)`+Prepared,
			text, note, s.Now(), j.DocumentID, j.Lease).Scan(&hasAuto, &hasManual, &hasSuggestions)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrLeaseLost
		}
		if err != nil {
			return err
		}
		if hasAuto {
			if _, err := tx.ExecContext(ctx, `DELETE FROM document_topics WHERE document_id = $1 AND source = 'ai'`+Prepared, j.DocumentID); err != nil {
				return err
			}
		}
		if hasSuggestions {
			if _, err := tx.ExecContext(ctx, `DELETE FROM document_suggestions WHERE document_id = $1`+Prepared, j.DocumentID); err != nil {
				return err
			}
		}
		if hasManual {
			return nil
		}
		for _, a := range topics {
			table, source := `document_topics (document_id, topic_id, source, confidence)`, `, 'ai'`
			if a.Suggested {
				table, source = `document_suggestions (document_id, topic_id, confidence)`, ``
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+`
				SELECT $1, t.id`+source+`, $2 FROM topics t WHERE t.id = $3 AND (t.user_id IS NULL OR t.user_id = $4)
				ON CONFLICT DO NOTHING`+Prepared, j.DocumentID, a.Confidence, a.TopicID, j.UserID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: complete classification: %w", err)
	}
	return nil
}

// FailJob records a failed attempt: retried after retryIn (on the store's clock, the one
// ClaimNext compares with), or, when final, marked classification_failed with the reason
// shown to the user.
func (s *Store) FailJob(ctx context.Context, j Job, reason string, retryIn time.Duration, final bool) error {
	status := StatusUploaded
	var next any = s.Now().Add(retryIn)
	if final {
		status, next = StatusClassificationFailed, nil
	}
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET status = $1, error = $2, next_attempt_at = $3, claimed_until = NULL
		WHERE id = $4 AND claimed_until = $5 AND status = 'uploaded'`, status, reason, next, j.DocumentID, j.Lease)
	if err := leaseHeld(res, err); err != nil {
		return fmt.Errorf("store: fail classification: %w", err)
	}
	return nil
}

// ReleaseJob gives a claimed document back untouched (a worker stopping before it finished):
// the attempt does not count.
func (s *Store) ReleaseJob(ctx context.Context, j Job) error {
	_, err := s.db.ExecContext(ctx, `UPDATE documents SET claimed_until = NULL, attempts = attempts - 1
		WHERE id = $1 AND claimed_until = $2 AND status = 'uploaded'`, j.DocumentID, j.Lease)
	if err != nil {
		return fmt.Errorf("store: release classification: %w", err)
	}
	return nil
}

// QueueDepth counts documents waiting for classification.
func (s *Store) QueueDepth(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents WHERE status = 'uploaded'`).Scan(&n)
	return n, err
}
