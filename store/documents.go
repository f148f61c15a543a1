package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Document statuses.
const (
	StatusPending              = "pending"
	StatusUploaded             = "uploaded"
	StatusClassified           = "classified"
	StatusClassificationFailed = "classification_failed"
)

// Document is one stored file of one user.
type Document struct {
	ID           string
	UserID       string
	Filename     string
	ContentType  string
	ObjectKey    string
	SizeBytes    int64
	Status       string
	Error        *string
	Attempts     int
	CreatedAt    time.Time
	UploadedAt   *time.Time
	ClassifiedAt *time.Time
	TrashedAt    *time.Time // in the trash since; nil: not trashed
	HasThumbnail bool
	Topics       []DocumentTopic // assigned, best first: manual, then by confidence
	Suggested    []DocumentTopic // likely but below the threshold, best first (only while Topics is empty)
	// Snippet is set on search results only: an HTML fragment of the text around the first
	// match, escaped, with the matching words in <mark> (see snippet).
	Snippet *string
}

// Topic sources: chosen by a provider, or by the user (which also teaches the user's model).
const (
	SourceAuto   = "ai"
	SourceManual = "user"
)

// DocumentTopic is a topic assigned to (or suggested for) a document.
type DocumentTopic struct {
	ID         string
	Name       string
	System     bool
	Confidence float64 // 0–1; 1 for a manual assignment
	Source     string  // SourceAuto or SourceManual; empty for a suggestion
}

// NeedsTopic tells whether the classifier placed the document nowhere: classified, and no
// topic above the threshold, so the user is asked to pick one (see Suggested).
func (d Document) NeedsTopic() bool { return d.Status == StatusClassified && len(d.Topics) == 0 }

const documentColumns = `d.id, d.user_id, d.filename, d.content_type, d.object_key, d.size_bytes, d.status, d.error,
	d.attempts, d.created_at, d.uploaded_at, d.classified_at, d.thumbnail_type IS NOT NULL, d.trashed_at`

func scanDocument(row scanner, extra ...any) (Document, error) {
	var d Document
	var errText sql.NullString
	var uploaded, classified, trashed sql.NullTime
	dest := append([]any{&d.ID, &d.UserID, &d.Filename, &d.ContentType, &d.ObjectKey, &d.SizeBytes, &d.Status, &errText,
		&d.Attempts, &d.CreatedAt, &uploaded, &classified, &d.HasThumbnail, &trashed}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Document{}, notFound(err)
	}
	if errText.Valid {
		d.Error = &errText.String
	}
	d.CreatedAt, d.UploadedAt, d.ClassifiedAt = d.CreatedAt.UTC(), timePtr(uploaded), timePtr(classified)
	d.TrashedAt = timePtr(trashed)
	d.Topics, d.Suggested = []DocumentTopic{}, []DocumentTopic{}
	return d, nil
}

// ObjectKeyFor is where a user's document lives in the blob store.
func ObjectKeyFor(userID, documentID string) string { return "u/" + userID + "/" + documentID }

// StagingPrefix starts the key of every upload not yet confirmed.
const StagingPrefix = "staging/"

// StagingKeyFor is where the bytes of a pending document are uploaded; confirm moves them to
// objectKey, so an upload URL can never write a confirmed document's bytes.
func StagingKeyFor(objectKey string) string { return StagingPrefix + objectKey }

// CreatePending inserts a document waiting for its bytes, reserving declaredSize within the
// user's pending allowance (the limit itself).
func (s *Store) CreatePending(ctx context.Context, userID, filename, contentType string, declaredSize int64) (Document, error) {
	return s.CreatePendingWithin(ctx, userID, filename, contentType, declaredSize, 0)
}

// CreatePendingWithin inserts a document waiting for its bytes and reserves declaredSize with
// one conditional UPDATE in the same transaction: used + pending + size <= limit + allowance
// (allowance 0: the user's limit). Refused: a *QuotaError and nothing changed.
func (s *Store) CreatePendingWithin(ctx context.Context, userID, filename, contentType string, declaredSize, allowance int64) (Document, error) {
	return s.createPending(ctx, userID, filename, contentType, declaredSize, allowance, false)
}

// ReservePending is CreatePendingWithin for a file that must also fit the quota on top of the
// bytes already used (used + size <= limit), checked in the same conditional UPDATE: an
// upload URL reads the quota only when it refuses.
func (s *Store) ReservePending(ctx context.Context, userID, filename, contentType string, declaredSize, allowance int64) (Document, error) {
	return s.createPending(ctx, userID, filename, contentType, declaredSize, allowance, true)
}

func (s *Store) createPending(ctx context.Context, userID, filename, contentType string, declaredSize, allowance int64, fit bool) (Document, error) {
	d := Document{ID: newID(), UserID: userID, Filename: filename, ContentType: contentType, SizeBytes: declaredSize,
		Status: StatusPending, CreatedAt: s.Now(), Topics: []DocumentTopic{}}
	d.ObjectKey = ObjectKeyFor(userID, d.ID)
	var err error
	if s.dialect == Postgres {
		// One statement (see reserve_upload in migration 0020): the quota row stays locked
		// for the statement only, not for the round trips of a transaction.
		_, err = s.db.ExecContext(ctx, `SELECT reserve_upload($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			d.ID, userID, filename, contentType, d.ObjectKey, declaredSize, d.CreatedAt, nameKey(filename), allowance, fit)
		err = s.refusal(ctx, err, userID, declaredSize)
	} else {
		err = s.inTx(ctx, func(tx *sql.Tx) error { return reservePending(ctx, tx, d, allowance, fit) })
	}
	if isForeignKeyViolation(err) {
		err = ErrNotFound // the user is gone
	}
	if err != nil {
		return Document{}, fmt.Errorf("store: create pending document: %w", err)
	}
	return d, nil // every column is known: no need to read the row back
}

// reservePending inserts the pending document d and reserves its bytes in tx: the statements
// of reserve_upload (migration 0020 for PostgreSQL), for SQLite.
func reservePending(ctx context.Context, tx *sql.Tx, d Document, allowance int64, fit bool) error {
	cond := ``
	if fit {
		cond = ` AND used_bytes + $1 <= limit_bytes`
	}
	// The document first, the quota row last, in the order every upload and deletion takes
	// its locks.
	if _, err := tx.ExecContext(ctx, `INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes, status, created_at, name_key)
		VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)`+Prepared, d.ID, d.UserID, d.Filename, d.ContentType, d.ObjectKey, d.SizeBytes, d.CreatedAt, nameKey(d.Filename)); err != nil {
		return err
	}
	// The limit is subtracted, not added: limit + allowance overflows a BIGINT for a limit
	// near its maximum, while the byte counts on the left are real sizes. The document is
	// counted in the same statement; a refusal rolls the insert back.
	res, err := tx.ExecContext(ctx, `UPDATE quotas SET pending_bytes = pending_bytes + $1, document_count = document_count + 1
		WHERE user_id = $2 AND used_bytes + pending_bytes + $1 - limit_bytes <= CASE WHEN $3 <= 0 THEN limit_bytes ELSE $3 END`+cond+Prepared,
		d.SizeBytes, d.UserID, allowance)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return quotaRefused(ctx, tx, d.UserID, d.SizeBytes)
	}
	return nil
}

// quotaRefused is the *QuotaError of a refused charge of size bytes to the user's quota,
// with the quota as q reads it now.
func quotaRefused(ctx context.Context, q execer, userID string, size int64) error {
	qe := &QuotaError{RejectedBytes: size}
	if err := q.QueryRowContext(ctx, `SELECT used_bytes, limit_bytes, pending_bytes FROM quotas WHERE user_id = $1`, userID).
		Scan(&qe.UsedBytes, &qe.LimitBytes, &qe.PendingBytes); err != nil {
		return notFound(err)
	}
	return qe
}

// refusal turns the refusals of reserve_upload and confirm_upload (migration 0020) into the
// store's errors: a *QuotaError for one of size bytes, a *DuplicateError. Other errors, and
// nil, are returned as they are.
func (s *Store) refusal(ctx context.Context, err error, userID string, size int64) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "DV001":
		return quotaRefused(ctx, s.db, userID, size)
	case "DV002":
		return &DuplicateError{ExistingID: pe.Detail}
	}
	return err
}

// Document finds one of the user's documents (ErrNotFound for another user's).
func (s *Store) Document(ctx context.Context, userID, id string) (Document, error) {
	d, err := scanDocument(s.db.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents d WHERE d.id = $1 AND d.user_id = $2`+Prepared, id, userID))
	if err != nil {
		return Document{}, fmt.Errorf("store: document: %w", err)
	}
	docs := []Document{d}
	if err := s.attachTopics(ctx, docs); err != nil {
		return Document{}, err
	}
	return docs[0], nil
}

// ConfirmUpload moves a pending document to uploaded and charges size to the quota, in one
// transaction with one conditional UPDATE of the quota (never read-then-write), which also
// gives back the pending reservation. sum is the SHA-256 of the bytes when known ("" if not;
// one recorded while streaming is kept). A repeated confirm returns the document unchanged.
// Over quota: a *QuotaError and nothing changed. The same bytes as another of the user's
// documents (unless duplicates are allowed): a *DuplicateError and nothing changed.
func (s *Store) ConfirmUpload(ctx context.Context, userID, id string, size int64, sum string) (Document, error) {
	return s.confirmUpload(ctx, userID, id, -1, size, sum)
}

// ConfirmReserved is ConfirmUpload for a caller that knows the size the pending document
// reserved (declared, from its confirm lease: a pending document's declared size does not
// change), so the pending row is not read before it is updated.
func (s *Store) ConfirmReserved(ctx context.Context, userID, id string, declared, size int64, sum string) (Document, error) {
	if declared < 0 {
		return Document{}, fmt.Errorf("store: confirm upload: declared size %d: %w", declared, ErrInvalid)
	}
	return s.confirmUpload(ctx, userID, id, declared, size, sum)
}

// confirmUpload is ConfirmUpload; declared < 0: read the reserved size from the pending row.
func (s *Store) confirmUpload(ctx context.Context, userID, id string, declared, size int64, sum string) (Document, error) {
	now := s.Now()
	var confirmed *Document
	var err error
	if s.dialect == Postgres {
		// One statement (see confirm_upload in migration 0020): the quota row stays locked for
		// the statement only, not for the round trips of a transaction. It reads the reserved
		// size from the row it locks.
		var d Document
		d, err = scanDocument(s.db.QueryRowContext(ctx, `SELECT `+strings.ReplaceAll(documentColumns, "d.", "c.")+`
			FROM confirm_upload($1, $2, $3, $4, $5, $6) c`, id, userID, size, nullIfEmpty(sum), now, !s.allowDuplicates))
		if err == nil {
			confirmed = &d
		} else if errors.Is(err, ErrNotFound) {
			err = nil // already confirmed, or not the user's: the read below tells which
		}
		err = s.refusal(ctx, err, userID, size)
	} else {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			confirmed, err = s.confirmPending(ctx, tx, userID, id, declared, size, sum, now)
			return err
		})
	}
	if err != nil {
		return Document{}, fmt.Errorf("store: confirm upload: %w", err)
	}
	if confirmed == nil {
		return s.Document(ctx, userID, id)
	}
	docs := []Document{*confirmed}
	if err := s.attachTopics(ctx, docs); err != nil {
		return Document{}, err
	}
	return docs[0], nil
}

// confirmPending confirms the user's pending document id in tx: the statements of
// confirm_upload (migration 0020 for PostgreSQL), for SQLite. It returns nil, nil when the
// document is not the user's or no longer pending.
func (s *Store) confirmPending(ctx context.Context, tx *sql.Tx, userID, id string, declared, size int64, sum string, now time.Time) (*Document, error) {
	reserved := declared
	if reserved < 0 {
		err := tx.QueryRowContext(ctx, `SELECT size_bytes FROM documents WHERE id = $1 AND user_id = $2 AND status = 'pending'`,
			id, userID).Scan(&reserved)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	// The row comes back from the UPDATE itself, so a confirm reads it only once; with it the
	// SHA-256 it now holds: one recorded while the bytes streamed wins over sum.
	var recorded sql.NullString
	d, err := scanDocument(tx.QueryRowContext(ctx, `UPDATE documents SET status = 'uploaded', size_bytes = $1, uploaded_at = $2,
		next_attempt_at = $2, sha256 = COALESCE(sha256, $5), claimed_until = NULL WHERE id = $3 AND user_id = $4 AND status = 'pending'
		RETURNING `+strings.ReplaceAll(documentColumns, "d.", "")+`, sha256`+Prepared, size, now, id, userID, nullIfEmpty(sum)), &recorded)
	if errors.Is(err, ErrNotFound) {
		return nil, nil // confirmed meanwhile by another request, or not the user's
	}
	if err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE quotas SET used_bytes = used_bytes + $1, pending_bytes = pending_bytes - $3
		WHERE user_id = $2 AND used_bytes + $1 <= limit_bytes`+Prepared, size, userID, reserved)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 0 {
		return nil, quotaRefused(ctx, tx, userID, size)
	}
	// Checked in the same write transaction (SQLite runs one at a time): a parallel confirm of
	// the same bytes has committed before it or commits after it, and then sees this one.
	return &d, s.checkDuplicate(ctx, tx, userID, id, recorded.String, true)
}

func nullIfEmpty(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// DiscardPending removes a pending document, gives back its reservation and queues its
// object and staging object for deletion. It returns both keys.
func (s *Store) DiscardPending(ctx context.Context, userID, id string) ([]string, error) {
	var key string
	var declared int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `DELETE FROM documents WHERE id = $1 AND user_id = $2 AND status = 'pending' RETURNING object_key, size_bytes`,
			id, userID).Scan(&key, &declared); err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE quotas SET pending_bytes = pending_bytes - $1, document_count = document_count - 1
			WHERE user_id = $2`, declared, userID); err != nil {
			return err
		}
		return enqueueObject(ctx, tx, key)
	})
	if err != nil {
		return nil, fmt.Errorf("store: discard pending: %w", err)
	}
	return objectKeys(key), nil
}

// enqueueObject queues a document's object, its staging object and its thumbnail for
// deletion: every path that drops a document row goes through here.
func enqueueObject(ctx context.Context, tx *sql.Tx, key string) error {
	for _, k := range objectKeys(key) {
		if err := enqueueDeletion(ctx, tx, k); err != nil {
			return err
		}
	}
	return nil
}

// objectKeys are all the blob keys a document with object key key may have.
func objectKeys(key string) []string { return []string{key, StagingKeyFor(key), ThumbKeyFor(key)} }

// DeleteDocument removes the document, gives its bytes (or its pending reservation) back to
// the quota and queues its objects for deletion, all in one transaction. It returns the keys.
func (s *Store) DeleteDocument(ctx context.Context, userID, id string) ([]string, error) {
	var keys []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		keys, err = s.deleteDocumentTx(ctx, tx, userID, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete document: %w", err)
	}
	return keys, nil
}

// deleteDocumentTx is DeleteDocument inside tx.
func (s *Store) deleteDocumentTx(ctx context.Context, tx *sql.Tx, userID, id string) ([]string, error) {
	var key, status string
	var size int64
	var trashed bool
	if err := tx.QueryRowContext(ctx, `DELETE FROM documents WHERE id = $1 AND user_id = $2 RETURNING object_key, size_bytes, status, trashed`,
		id, userID).Scan(&key, &size, &status, &trashed); err != nil {
		return nil, notFound(err)
	}
	var q quotaDelta
	q.release(size, status, trashed)
	if err := q.apply(ctx, tx, userID); err != nil {
		return nil, err
	}
	return objectKeys(key), enqueueObject(ctx, tx, key)
}

// DocumentPatch changes a document; nil fields stay.
type DocumentPatch struct {
	Filename *string
	TopicIDs *[]string
	// Terms, if set, turns the document into the counts its owner's model learns from when
	// TopicIDs changes its manual topics (see learn).
	Terms func(filename, text string) map[string]int
}

// UpdateDocument renames and/or sets the user's topics of a document. Topic ids must be
// system topics or the user's own (ErrInvalid otherwise).
func (s *Store) UpdateDocument(ctx context.Context, userID, id string, p DocumentPatch) (Document, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM documents WHERE id = $1 AND user_id = $2`, id, userID).Scan(&one); err != nil {
			return notFound(err)
		}
		if p.Filename != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET filename = $1, name_key = $2 WHERE id = $3`, *p.Filename, nameKey(*p.Filename), id); err != nil {
				return err
			}
		}
		if p.TopicIDs != nil {
			ids := dedupe(*p.TopicIDs)
			if len(ids) > 0 {
				args := []any{userID}
				for _, t := range ids {
					args = append(args, t)
				}
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM topics WHERE (user_id IS NULL OR user_id = $1) AND id IN (`+
					placeholders(2, len(ids))+`)`, args...).Scan(&n); err != nil {
					return err
				}
				if n != len(ids) {
					return &InvalidError{Reason: "topic_ids must be system topics or your own"}
				}
			}
			return s.setManualTopics(ctx, tx, userID, id, ids, p.Terms)
		}
		return nil
	})
	if err != nil {
		return Document{}, fmt.Errorf("store: update document: %w", err)
	}
	return s.Document(ctx, userID, id)
}

// DocumentFilter narrows a document list.
type DocumentFilter struct {
	Status  string
	TopicID string
	Query   string // full-text over filename and extracted text
	Trashed bool   // the trash instead of the live documents
	Sort    string // a plain list's order (SortCreated, SortName, SortSize; "" = SortCreated)
	Asc     bool   // ascending instead of descending (plain lists only)
	After   *Cursor
	Limit   int
}

// ListDocuments pages through the user's documents (or their trash, f.Trashed): by creation,
// name or size in either direction (f.Sort, f.Asc; newest first by default), or for a query
// the best matches first (a common word: the newest matches first, see planSearch). Keyset
// pagination throughout, each order served by an index; a cursor serves only its own order.
func (s *Store) ListDocuments(ctx context.Context, userID string, f DocumentFilter) ([]Document, *Cursor, error) {
	args := []any{userID}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	p := sortedList(f.Sort, f.Asc)
	var words []string
	if strings.TrimSpace(f.Query) != "" {
		if sortOf(f.Sort) != SortCreated || f.Asc || (f.After != nil && (sortOf(f.After.Sort) != SortCreated || f.After.Asc)) {
			return nil, nil, fmt.Errorf("store: list documents: a search has its own order: %w", ErrInvalid)
		}
		words = searchWords(f.Query)
		if len(words) == 0 {
			return []Document{}, nil, nil
		}
	}
	where := []string{`d.user_id = $1`, `d.trashed = ` + arg(f.Trashed)}
	if f.Status != "" {
		where = append(where, `d.status = `+arg(f.Status))
	}
	if f.TopicID != "" {
		where = append(where, `EXISTS (SELECT 1 FROM document_topics dt WHERE dt.document_id = d.id AND dt.topic_id = `+arg(f.TopicID)+`)`)
	}
	if words != nil {
		var err error
		if p, err = s.planSearch(ctx, userID, words, f.After, f.Limit, where, &args); err != nil {
			return nil, nil, fmt.Errorf("store: list documents: %w", err)
		}
	}
	if p.cond != "" {
		where = append(where, p.cond)
	}
	if c := f.After; c != nil {
		cond, err := p.after(c, arg)
		if err != nil {
			return nil, nil, fmt.Errorf("store: list documents: %w", err)
		}
		where = append(where, cond)
	}
	limit := f.Limit
	text := `''`
	if words != nil {
		text = `substr(d.text, 1, ` + strconv.Itoa(SnippetTextChars) + `)` // the snippet's source, bounded
	}
	q := `SELECT ` + documentColumns + `, ` + p.score + `, ` + p.seq + `, ` + text + ` FROM ` + p.from + ` WHERE ` + strings.Join(where, ` AND `) +
		` ORDER BY ` + p.order + ` LIMIT ` + arg(limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: list documents: %w", err)
	}
	defer rows.Close()
	docs := []Document{}
	var keys []Cursor
	for rows.Next() {
		var k Cursor
		var text string
		d, err := scanDocument(rows, &k.Score, &k.Seq, &text)
		if err != nil {
			return nil, nil, fmt.Errorf("store: list documents: %w", err)
		}
		if words != nil {
			sn := snippet(text, words, p.prefix)
			d.Snippet = &sn
		}
		docs = append(docs, d)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: list documents: %w", err)
	}
	var next *Cursor
	if len(docs) > limit {
		docs = docs[:limit]
		last, k := docs[limit-1], keys[limit-1]
		next = &Cursor{At: last.CreatedAt, ID: last.ID, Ranked: p.ranked, Score: k.Score, Seq: k.Seq}
		if !p.ranked {
			next.Score = 0
		}
		if words == nil {
			next = sortedCursor(last, f.Sort, f.Asc)
		}
	}
	if err := s.attachTopics(ctx, docs); err != nil {
		return nil, nil, err
	}
	return docs, next, nil
}

// attachTopics loads the topics and suggestions of docs with one query each.
func (s *Store) attachTopics(ctx context.Context, docs []Document) error {
	if len(docs) == 0 {
		return nil
	}
	args := make([]any, len(docs))
	index := make(map[string]int, len(docs))
	for i, d := range docs {
		args[i] = d.ID
		index[d.ID] = i
	}
	in := placeholders(1, len(docs))
	rows, err := s.db.QueryContext(ctx, `SELECT dt.document_id, t.id, t.name, t.user_id IS NULL, COALESCE(dt.confidence, 1), dt.source
		FROM document_topics dt JOIN topics t ON t.id = dt.topic_id WHERE dt.document_id IN (`+in+`)
		ORDER BY dt.source = 'user' DESC, COALESCE(dt.confidence, 1) DESC, t.name_key, t.id`+Prepared, args...)
	if err != nil {
		return fmt.Errorf("store: document topics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var docID string
		var t DocumentTopic
		if err := rows.Scan(&docID, &t.ID, &t.Name, &t.System, &t.Confidence, &t.Source); err != nil {
			return fmt.Errorf("store: document topics: %w", err)
		}
		t.Confidence = roundConfidence(t.Confidence)
		i := index[docID]
		docs[i].Topics = append(docs[i].Topics, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: document topics: %w", err)
	}
	srows, err := s.db.QueryContext(ctx, `SELECT ds.document_id, t.id, t.name, t.user_id IS NULL, ds.confidence
		FROM document_suggestions ds JOIN topics t ON t.id = ds.topic_id WHERE ds.document_id IN (`+in+`)
		ORDER BY ds.confidence DESC, t.name_key, t.id`+Prepared, args...)
	if err != nil {
		return fmt.Errorf("store: document suggestions: %w", err)
	}
	defer srows.Close()
	for srows.Next() {
		var docID string
		var t DocumentTopic
		if err := srows.Scan(&docID, &t.ID, &t.Name, &t.System, &t.Confidence); err != nil {
			return fmt.Errorf("store: document suggestions: %w", err)
		}
		t.Confidence = roundConfidence(t.Confidence)
		if i := index[docID]; len(docs[i].Topics) == 0 {
			docs[i].Suggested = append(docs[i].Suggested, t)
		}
	}
	return srows.Err()
}

// ExpirePending removes pending documents created before cutoff, gives back their
// reservations and queues their objects, all in one transaction.
func (s *Store) ExpirePending(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM documents WHERE status = 'pending' AND created_at < $1
			RETURNING object_key, user_id, size_bytes`, cutoff)
		if err != nil {
			return err
		}
		type expired struct {
			key, user string
			size      int64
		}
		var list []expired
		for rows.Next() {
			var e expired
			if err := rows.Scan(&e.key, &e.user, &e.size); err != nil {
				rows.Close()
				return err
			}
			list = append(list, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range list {
			if _, err := tx.ExecContext(ctx, `UPDATE quotas SET pending_bytes = pending_bytes - $1, document_count = document_count - 1
				WHERE user_id = $2`, e.size, e.user); err != nil {
				return err
			}
			if err := enqueueObject(ctx, tx, e.key); err != nil {
				return err
			}
		}
		n = len(list)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: expire pending: %w", err)
	}
	return n, nil
}

// deleteDocumentsWhere deletes the matching documents in tx and queues each object (and its
// staging object) for deletion in the same transaction; it returns every queued key.
func deleteDocumentsWhere(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM documents WHERE `+where+` RETURNING object_key`, args...)
	if err != nil {
		return nil, err
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	all := make([]string, 0, 3*len(keys))
	for _, k := range keys {
		if err := enqueueObject(ctx, tx, k); err != nil {
			return nil, err
		}
		all = append(all, objectKeys(k)...)
	}
	return all, nil
}

func placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Requeue puts a confirmed document back in the classification queue with fresh attempts.
func (s *Store) Requeue(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET status = 'uploaded', attempts = 0, error = NULL,
		next_attempt_at = $1, claimed_until = NULL WHERE id = $2 AND user_id = $3 AND status <> 'pending'`, s.Now(), id, userID)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("store: requeue: %w", err)
	}
	return nil
}

// roundConfidence keeps three decimals: PostgreSQL's REAL holds a float32, and 0.9 should
// read back as 0.9 on both databases.
func roundConfidence(c float64) float64 { return math.Round(c*1000) / 1000 }
