// Package ingest is the one path by which bytes become a user's document outside the
// three-step browser flow: the API's one-shot upload, consume folders, mail intake, the
// command line and imports. Each file is reserved against the quota, streamed to the blob
// store within a size bound, confirmed with the quota charged atomically, and queued for
// classification; a refused file leaves nothing behind.
package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/store"
)

// Queue is told when a document is ready for classification.
type Queue interface {
	NotifyDocument(documentID, requestID string)
}

// Options wire a Service.
type Options struct {
	Store               *store.Store
	Blobs               blob.Store
	Queue               Queue // may be nil
	Logger              *slog.Logger
	MaxUploadBytes      int64 // largest file; 0: 512 MiB
	PendingAllowance    int64 // see server.Options.PendingAllowance
	AllowedContentTypes []string
}

// Service adds files as documents.
type Service struct {
	o   Options
	log *slog.Logger
}

// New builds a Service.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 512 << 20
	}
	return &Service{o: o, log: o.Logger}
}

// File is one file to add.
type File struct {
	Filename    string    // validated like the API's filename rule
	ContentType string    // "": guessed from the name and first bytes
	Body        io.Reader // streamed, never buffered whole
	Size        int64     // exact size, -1 when unknown; more bytes than this are refused
	// Bound, when above 0 and Size is unknown, is a number of bytes Body holds at most (a
	// request's Content-Length): the reservation is no larger.
	Bound int64
	// Pending, when set, is told the pending document's id before any byte is stored, so
	// a caller can record what the file is becoming (a crash then leaves a trail); an
	// error abandons the file (nothing is kept) and is returned as it is.
	Pending func(ctx context.Context, documentID string) error
}

type requestIDKey struct{}

// WithRequestID tags ctx with the request that brings the file, for the queue's log lines.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Add stores f as a document of userID and queues it for classification. A *Refusal
// (IsRefusal) means the file itself was turned down; any other error is a failed
// dependency, and nothing was kept either way.
func (s *Service) Add(ctx context.Context, userID string, f File) (store.Document, error) {
	if err := ValidFilename(f.Filename); err != nil {
		return store.Document{}, err
	}
	body := bufio.NewReaderSize(f.Body, 512)
	declared := f.ContentType
	if declared == "" {
		head, _ := body.Peek(512) // a short or failing read shows again on the copy below
		declared = GuessContentType(f.Filename, head)
	}
	ct, err := ContentType(declared, s.o.AllowedContentTypes)
	if err != nil {
		return store.Document{}, err
	}
	q, err := s.o.Store.QuotaOf(ctx, userID)
	if err != nil {
		return store.Document{}, fmt.Errorf("ingest: quota of %s: %w", userID, err)
	}
	left := max(q.LimitBytes-q.UsedBytes, 0)
	room := min(s.o.MaxUploadBytes, left)
	switch {
	case f.Size > s.o.MaxUploadBytes:
		return store.Document{}, &Refusal{Kind: KindTooLarge, Message: fmt.Sprintf("file larger than the maximum upload size (%d bytes)", s.o.MaxUploadBytes),
			UsedBytes: q.UsedBytes, LimitBytes: q.LimitBytes, RejectedBytes: f.Size}
	case f.Size > left:
		return store.Document{}, &Refusal{Kind: KindQuotaExceeded, Message: quotaMessage(q.UsedBytes, q.LimitBytes, f.Size),
			UsedBytes: q.UsedBytes, LimitBytes: q.LimitBytes, RejectedBytes: f.Size}
	case f.Size >= 0:
		room = f.Size
	case f.Bound > 0 && f.Bound < room:
		room = f.Bound
	}
	// The room is reserved like a declared size, so these uploads count as pending too.
	d, err := s.o.Store.CreatePendingWithin(ctx, userID, f.Filename, ct, room, s.o.PendingAllowance)
	if err != nil {
		return store.Document{}, s.refusedByStore(err)
	}
	if f.Pending != nil {
		if err := f.Pending(ctx, d.ID); err != nil {
			s.Discard(ctx, userID, d.ID)
			return store.Document{}, err
		}
	}
	src := &sourceBody{r: body}
	info, err := s.o.Blobs.Put(ctx, d.ObjectKey, src, room, ct)
	if err == nil && src.err != nil {
		err = src.err // the store took the source's short read for its end (minio-go does)
	}
	if err != nil {
		s.Discard(ctx, userID, d.ID)
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, blob.ErrTooLarge), errors.As(src.err, &mbe):
			kind, msg := KindTooLarge, fmt.Sprintf("file larger than the maximum upload size (%d bytes)", s.o.MaxUploadBytes)
			if room < s.o.MaxUploadBytes && f.Size < 0 {
				kind, msg = KindQuotaExceeded, quotaMessage(q.UsedBytes, q.LimitBytes, room+1)
			} else if f.Size >= 0 {
				msg = fmt.Sprintf("file grew past its size of %d bytes while it was read", f.Size)
			}
			return store.Document{}, &Refusal{Kind: kind, Message: msg, UsedBytes: q.UsedBytes, LimitBytes: q.LimitBytes, RejectedBytes: room + 1, Err: err}
		case src.err != nil: // the source failed, not the blob store
			return store.Document{}, &Refusal{Kind: KindUnreadable, Message: "the file could not be read", Err: src.err}
		}
		return store.Document{}, fmt.Errorf("ingest: store the bytes of %s: %w", d.ID, err)
	}
	return s.Confirm(ctx, userID, d.ID, info.Size, info.SHA256)
}

func quotaMessage(used, limit, rejected int64) string {
	return fmt.Sprintf("quota exceeded: %d of %d bytes used, %d more refused", used, limit, rejected)
}

// refusedByStore turns the store's refusals into a *Refusal, keeping the cause.
func (s *Service) refusedByStore(err error) error {
	var qe *store.QuotaError
	switch {
	case errors.As(err, &qe):
		return &Refusal{Kind: KindQuotaExceeded, Message: quotaMessage(qe.UsedBytes, qe.LimitBytes, qe.RejectedBytes),
			UsedBytes: qe.UsedBytes, LimitBytes: qe.LimitBytes, RejectedBytes: qe.RejectedBytes, Err: err}
	case errors.Is(err, store.ErrDuplicate):
		return &Refusal{Kind: KindDuplicate, Message: "the same file is already stored", Err: err}
	}
	return err
}

// Confirm charges the quota for a stored pending upload of size bytes (sum: its SHA-256,
// when known) in the transaction that marks it uploaded, and queues it. A refused upload
// (quota, duplicate) is discarded with its objects.
func (s *Service) Confirm(ctx context.Context, userID, id string, size int64, sum string) (store.Document, error) {
	return s.confirm(ctx, userID, id, func() (store.Document, error) { return s.o.Store.ConfirmUpload(ctx, userID, id, size, sum) })
}

// ConfirmReserved is Confirm for a caller holding the upload's confirm lease, which told the
// size the upload reserved (see store.ConfirmReserved).
func (s *Service) ConfirmReserved(ctx context.Context, userID, id string, declared, size int64, sum string) (store.Document, error) {
	return s.confirm(ctx, userID, id, func() (store.Document, error) {
		return s.o.Store.ConfirmReserved(ctx, userID, id, declared, size, sum)
	})
}

// confirm runs a store confirm of the pending upload id and deals with its outcome.
func (s *Service) confirm(ctx context.Context, userID, id string, run func() (store.Document, error)) (store.Document, error) {
	d, err := run()
	if err != nil {
		if errors.Is(err, store.ErrQuotaExceeded) || errors.Is(err, store.ErrDuplicate) {
			s.Discard(ctx, userID, id)
			return d, s.refusedByStore(err)
		}
		if errors.Is(err, store.ErrNotFound) {
			// Deleted or expired while its bytes were stored or moved: the delete may have
			// removed the keys before they were written, and no row will ever refer to them.
			key := store.ObjectKeyFor(userID, id)
			s.deleteObjectsNow(context.WithoutCancel(ctx), key, store.StagingKeyFor(key))
		}
		return d, err
	}
	rid := requestID(ctx)
	s.log.Info("upload confirmed", "document_id", d.ID, "user_id", userID, "size_bytes", d.SizeBytes, "request_id", rid)
	if s.o.Queue != nil {
		s.o.Queue.NotifyDocument(d.ID, rid)
	}
	return d, nil
}

// Discard removes a refused pending upload: its row and reservation, and its objects through
// the outbox. With the row already gone (deleted or expired meanwhile) its objects are
// removed all the same: no row will ever refer to them again.
func (s *Service) Discard(ctx context.Context, userID, id string) {
	ctx = context.WithoutCancel(ctx)
	keys, err := s.o.Store.DiscardPending(ctx, userID, id)
	if errors.Is(err, store.ErrNotFound) {
		if _, gone := s.o.Store.Document(ctx, userID, id); errors.Is(gone, store.ErrNotFound) {
			key := store.ObjectKeyFor(userID, id)
			keys, err = []string{key, store.StagingKeyFor(key)}, nil
		}
	}
	if err != nil {
		s.log.Warn("refused upload left for expiry", "document_id", id, "err", err)
		return
	}
	s.deleteObjectsNow(ctx, keys...)
}

// deleteObjectsNow deletes objects whose outbox rows were just written, removing the rows
// of the ones that went; the scheduled drain retries the rest.
func (s *Service) deleteObjectsNow(ctx context.Context, keys ...string) {
	for _, k := range keys {
		if err := s.o.Blobs.Delete(ctx, k); err != nil {
			s.log.Warn("object deletion deferred to the drain", "object_key", k, "err", err)
			continue
		}
		if err := s.o.Store.ForgetDeletion(ctx, k); err != nil {
			s.log.Warn("outbox row kept", "object_key", k, "err", err)
		}
	}
}

// sourceBody keeps the error the source itself gave, so a failed copy is told apart by its
// source: the file (a refusal) or the blob store (a failed dependency).
type sourceBody struct {
	r   io.Reader
	err error
}

func (b *sourceBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}
