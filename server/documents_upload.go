package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/store"
)

type uploadURLRequest struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	SizeBytes   *int64 `json:"size_bytes"`
	// SHA256, when the client declares it, lets a duplicate be refused before any byte is sent.
	SHA256 string `json:"sha256"`
}

// uploadURL is step 1 of an upload: a pending row and a presigned PUT for the bytes.
func (s *Server) uploadURL(c echo.Context) error {
	var req uploadURLRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := validFilename(req.Filename); err != nil {
		return err
	}
	ct, err := s.contentTypeFor(req.ContentType)
	if err != nil {
		return err
	}
	if req.SizeBytes == nil || *req.SizeBytes < 0 {
		return fail(http.StatusBadRequest, "size_bytes must be a number of bytes, 0 or more")
	}
	size := *req.SizeBytes
	ctx := c.Request().Context()
	u := caller(c)
	if err := s.refuseDeclaredDuplicate(c, u.ID, req.SHA256); err != nil {
		return err
	}
	if size > s.opts.MaxUploadBytes {
		return s.checkRoom(c, u.ID, size)
	}
	// The quota is read only when the reservation is refused: a file that does not fit on
	// top of the used bytes gets the same 413 as before any reservation.
	d, err := s.store.ReservePending(ctx, u.ID, req.Filename, ct, size, s.opts.PendingAllowance)
	if qe := (*store.QuotaError)(nil); errors.As(err, &qe) && qe.UsedBytes+size > qe.LimitBytes {
		return fail(http.StatusRequestEntityTooLarge, quotaDetail(qe.UsedBytes, qe.LimitBytes, size))
	}
	if err != nil {
		return err
	}
	// The URL names the staging object: an object store's presigned URL writes it, and
	// confirm moves it, so the URL can never touch a confirmed document's bytes. This
	// server's own upload URL writes once, claimed (see receiveBlob).
	p, err := s.blobs.PresignPut(ctx, store.StagingKeyFor(d.ObjectKey), size, ct, s.opts.UploadURLTTL)
	if err != nil {
		if _, derr := s.store.DiscardPending(ctx, u.ID, d.ID); derr != nil {
			s.log.Error("pending row left for expiry", "document_id", d.ID, "err", derr)
		}
		return blobDown(err)
	}
	out := map[string]any{
		"document_id": d.ID, "upload_url": s.absoluteURL(c, p.URL), "method": p.Method,
		"headers": p.Headers, "expires_at": p.ExpiresAt,
	}
	if len(p.Fields) > 0 {
		out["fields"] = p.Fields // a POST upload (S3): form fields, then the file
	}
	return c.JSON(http.StatusCreated, out)
}

// refuseDeclaredDuplicate answers 409 with the existing document when the client declared the
// SHA-256 of a file the user already has. The declaration is a hint only: confirm (or, for
// S3 uploads, the worker) checks the real bytes again.
func (s *Server) refuseDeclaredDuplicate(c echo.Context, userID, sum string) error {
	if sum == "" {
		return nil
	}
	if !validSHA256(sum) {
		return fail(http.StatusBadRequest, "sha256 must be 64 lower-case hex digits")
	}
	id, err := s.store.DuplicateOf(c.Request().Context(), userID, sum)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return &store.DuplicateError{ExistingID: id}
}

// validSHA256 tells whether sum is a SHA-256 as the store records it.
func validSHA256(sum string) bool {
	if len(sum) != 64 {
		return false
	}
	for _, r := range sum {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// checkRoom answers 413 at once when size exceeds the largest upload or the remaining quota.
func (s *Server) checkRoom(c echo.Context, userID string, size int64) error {
	q, err := s.store.QuotaOf(c.Request().Context(), userID)
	if err != nil {
		return err
	}
	if size > s.opts.MaxUploadBytes {
		return s.tooLarge(q, size)
	}
	if q.UsedBytes+size > q.LimitBytes {
		return fail(http.StatusRequestEntityTooLarge, quotaDetail(q.UsedBytes, q.LimitBytes, size))
	}
	return nil
}

// tooLarge is the 413 for a file past the largest upload, with the quota's numbers too.
func (s *Server) tooLarge(q store.Quota, size int64) error {
	return fail(http.StatusRequestEntityTooLarge, map[string]any{
		"message": "file larger than the maximum upload size", "max_upload_bytes": s.opts.MaxUploadBytes,
		"used_bytes": q.UsedBytes, "limit_bytes": q.LimitBytes, "rejected_bytes": size})
}

// absoluteURL resolves a path of this server against base_url, or the request's own address.
func (s *Server) absoluteURL(c echo.Context, u string) string {
	if !strings.HasPrefix(u, "/") {
		return u
	}
	base := s.opts.BaseURL
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return strings.TrimSuffix(base, "/") + u
}

// confirmUpload is step 3: the staging object moves to the document's key (server-side, and
// idempotently), the size comes from the blob store's view of the moved object, and the
// quota is charged by one conditional UPDATE in the transaction that marks it uploaded.
// The confirm lease is taken first: for a pending upload, the usual case, that one UPDATE is
// all the reading done before the move; the document is read only when the lease is refused.
// Uploads the server received itself need neither lease nor move (see confirmReceived).
func (s *Server) confirmUpload(c echo.Context) error {
	if _, local := s.rawBlobs.(tokenUploads); local {
		return s.confirmReceived(c)
	}
	ctx := c.Request().Context()
	u := caller(c)
	id := c.Param("id")
	lease, ok, err := s.store.LeaseConfirm(ctx, u.ID, id, s.confirmLeaseFor())
	if err != nil {
		return err
	}
	if !ok {
		d, err := s.store.Document(ctx, u.ID, id)
		if err != nil {
			return err // not the user's, or gone: 404
		}
		if d.Status != store.StatusPending {
			return c.JSON(http.StatusOK, toDocumentJSON(d)) // repeated confirm: nothing changes
		}
		if lease, d, err = s.awaitConfirmLease(c, d); err != nil {
			return err
		}
		if d.Status != store.StatusPending {
			return c.JSON(http.StatusOK, toDocumentJSON(d)) // confirmed by the lease holder
		}
	}
	done := false
	defer func() {
		if !done {
			if err := s.store.ReleaseConfirm(context.WithoutCancel(ctx), id, lease.Until); err != nil {
				s.log.Warn("confirm lease left to run out", "document_id", id, "err", err)
			}
		}
	}()
	info, err := s.blobs.Move(ctx, store.StagingKeyFor(lease.ObjectKey), lease.ObjectKey)
	if errors.Is(err, blob.ErrNotFound) {
		return fail(http.StatusUnprocessableEntity, "upload not found")
	}
	if err != nil {
		return blobDown(err)
	}
	if err := s.confirmStored(c, id, lease.DeclaredSize, info); err != nil {
		return err
	}
	done = true
	return nil
}

// confirmReceived is confirmUpload for uploads this server received itself (the local store):
// the PUT wrote the document's own key, once (its claim refuses a second body, before and
// after confirm), so there is nothing to move and no rewrite to guard against: no lease is
// taken, and the conditional UPDATE of the confirm is its only write. Two confirms of one
// upload both find the file; the second finds the document no longer pending and answers
// with it, as a repeated confirm does.
func (s *Server) confirmReceived(c echo.Context) error {
	ctx := c.Request().Context()
	u := caller(c)
	id := c.Param("id")
	up, err := s.store.UploadOf(ctx, u.ID, id)
	if err != nil {
		return err // not the user's, or gone: 404
	}
	if up.Status != store.StatusPending {
		d, err := s.store.Document(ctx, u.ID, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, toDocumentJSON(d)) // repeated confirm: nothing changes
	}
	info, err := s.blobs.Stat(ctx, up.ObjectKey)
	if errors.Is(err, blob.ErrNotFound) {
		return fail(http.StatusUnprocessableEntity, "upload not found")
	}
	if err != nil {
		return blobDown(err)
	}
	return s.confirmStored(c, id, up.SizeBytes, info)
}

// confirmStored confirms the pending upload id whose bytes are stored as info (declared: the
// size its upload reserved) and answers with the document.
func (s *Server) confirmStored(c echo.Context, id string, declared int64, info blob.Info) error {
	u := caller(c)
	if info.Size > s.opts.MaxUploadBytes {
		q, _ := s.store.QuotaOf(c.Request().Context(), u.ID)
		s.discard(c, id)
		return s.tooLarge(q, info.Size)
	}
	confirmed, err := s.ingest.ConfirmReserved(s.ingestContext(c), u.ID, id, declared, info.Size, info.SHA256)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDocumentJSON(confirmed))
}

// confirmLeaseWait is how often a confirm waiting for another confirm of the same upload
// looks again.
const confirmLeaseWait = 20 * time.Millisecond

// confirmLeaseFor is how long a confirm lease lasts: it outlasts the request's deadline by a
// minute, so it ends with the request even when the blob store finishes a server-side copy
// late.
func (s *Server) confirmLeaseFor() time.Duration { return s.opts.Timeouts.Request + time.Minute }

// awaitConfirmLease waits, after a refused lease, until this request holds the confirm lease
// of the pending document d (confirms of one upload run one at a time), or until d is no
// longer pending: then it returns d as it is now.
func (s *Server) awaitConfirmLease(c echo.Context, d store.Document) (store.ConfirmLease, store.Document, error) {
	ctx := c.Request().Context()
	for {
		select {
		case <-ctx.Done():
			return store.ConfirmLease{}, d, fmt.Errorf("server: waiting for another confirm of %s: %w", d.ID, ctx.Err())
		case <-time.After(confirmLeaseWait):
		}
		lease, ok, err := s.store.LeaseConfirm(ctx, d.UserID, d.ID, s.confirmLeaseFor())
		if err != nil || ok {
			return lease, d, err
		}
		if d, err = s.store.Document(ctx, d.UserID, d.ID); err != nil || d.Status != store.StatusPending {
			return lease, d, err
		}
	}
}

// discard removes a refused pending upload with its reservation and objects.
func (s *Server) discard(c echo.Context, id string) {
	s.ingest.Discard(c.Request().Context(), caller(c).ID, id)
}

// ingestContext carries the request's ID to the classification queue.
func (s *Server) ingestContext(c echo.Context) context.Context {
	return ingest.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
}

// uploadOneShot takes a multipart upload (field "file") for scripts, streaming it to the blob
// store and stopping as soon as it passes the largest upload or the remaining quota.
func (s *Server) uploadOneShot(c echo.Context) error {
	u := caller(c)
	release, err := s.uploads.acquire(c.Response(), u.ID)
	if err != nil {
		return err
	}
	defer release()
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, s.opts.MaxUploadBytes+1<<20)
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return fail(http.StatusBadRequest, "expected a multipart/form-data body with a file field")
	}
	var part *multipart.Part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return fail(http.StatusBadRequest, "missing file field")
		}
		if err != nil {
			return fail(http.StatusBadRequest, "malformed multipart body")
		}
		if p.FormName() == "file" {
			part = p
			break
		}
		p.Close()
	}
	// The raw name, not part.FileName(), which would quietly strip a path.
	_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	ct := part.Header.Get("Content-Type")
	if ct == "" {
		ct = ingest.DefaultContentType // a script that names no type gets no guess either
	}
	d, err := s.ingest.Add(s.ingestContext(c), u.ID, ingest.File{Filename: params["filename"], ContentType: ct,
		Body: part, Size: -1, Bound: c.Request().ContentLength})
	if err != nil {
		return uploadRefused(err)
	}
	return c.JSON(http.StatusCreated, toDocumentJSON(d))
}

// uploadRefused keeps the one-shot upload's answer to an unreadable body; every other
// refusal is answered by the error handler like the same refusal anywhere.
func uploadRefused(err error) error {
	var r *ingest.Refusal
	if errors.As(err, &r) && r.Kind == ingest.KindUnreadable {
		return fail(http.StatusBadRequest, "malformed multipart body")
	}
	return err
}

// tokenUploads is a blob store that takes uploads through this server (the local store).
type tokenUploads interface {
	VerifyToken(token string) (key string, maxSize int64, err error)
	PutDeclared(ctx context.Context, key string, r io.Reader, declared int64, contentType string) (blob.Info, error)
}

// receiveBlob is the local store's upload endpoint: PUT /api/blobs/{token}. The token names
// the staging object of a pending document; the database decides whether it may still be
// written: the pending document is claimed with one conditional UPDATE before any byte is
// written, so the URL works once, and never after confirm, delete, discard or expiry. Being
// its one writer, the request writes the document's own key, not the staging object, and
// confirm has nothing to move. The body must be exactly
// the declared size; its SHA-256 is computed while it streams to disk, up to
// blob.InlineHashLimit (the worker hashes a larger file).
func (s *Server) receiveBlob(c echo.Context) error {
	uploads, ok := s.rawBlobs.(tokenUploads)
	if !ok {
		return fail(http.StatusNotFound, "uploads go to the object store")
	}
	token, err := url.PathUnescape(c.Param("token"))
	if err != nil {
		return fail(http.StatusForbidden, "invalid upload token")
	}
	key, _, err := uploads.VerifyToken(token)
	switch {
	case errors.Is(err, blob.ErrBadToken):
		return fail(http.StatusForbidden, "invalid upload token")
	case errors.Is(err, blob.ErrExpiredToken):
		return fail(http.StatusForbidden, "upload token expired")
	case err != nil:
		return blobDown(err)
	}
	objectKey, staged := strings.CutPrefix(key, store.StagingPrefix)
	if !staged {
		return fail(http.StatusGone, "upload no longer accepted")
	}
	ctx := c.Request().Context()
	claim, err := s.store.ClaimUpload(ctx, objectKey)
	switch {
	case errors.Is(err, store.ErrUploadUsed):
		return fail(http.StatusConflict, "upload URL already used")
	case errors.Is(err, store.ErrUploadClosed):
		return fail(http.StatusGone, "upload no longer accepted")
	case err != nil:
		return err
	}
	// The bytes go to the document's own key: the claim makes this request its only writer,
	// and a confirmed document's key is never claimed again (see confirmReceived).
	info, err := s.receiveClaimed(c, uploads, objectKey, claim)
	if err != nil {
		if rerr := s.store.ReleaseUpload(context.WithoutCancel(ctx), claim); rerr != nil {
			s.log.Error("upload claim not released; the upload expires with its document", "document_id", claim.DocumentID, "err", rerr)
		}
		return err
	}
	if err := s.store.FinishUpload(context.WithoutCancel(ctx), claim, info.SHA256); err != nil {
		if errors.Is(err, store.ErrUploadClosed) { // deleted or expired while the body streamed
			s.deleteObjectsNow(context.WithoutCancel(ctx), objectKey)
			return fail(http.StatusGone, "upload no longer accepted")
		}
		return err
	}
	return c.NoContent(http.StatusOK)
}

// receiveClaimed streams the body of a claimed upload to its staging object; anything but
// the declared size is refused and nothing is kept.
func (s *Server) receiveClaimed(c echo.Context, uploads tokenUploads, key string, claim store.UploadClaim) (blob.Info, error) {
	release, err := s.uploads.acquire(c.Response(), claim.UserID)
	if err != nil {
		return blob.Info{}, err
	}
	defer release()
	req := c.Request()
	if req.ContentLength > claim.DeclaredSize {
		return blob.Info{}, fail(http.StatusRequestEntityTooLarge, "body larger than the declared size")
	}
	if req.ContentLength >= 0 && req.ContentLength < claim.DeclaredSize {
		return blob.Info{}, fail(http.StatusBadRequest, "body shorter than the declared size")
	}
	body := &clientBody{r: req.Body}
	info, err := uploads.PutDeclared(req.Context(), key, body, claim.DeclaredSize, req.Header.Get("Content-Type"))
	err = countedBlobs{errs: s.opts.Metrics.blobErrors}.count("put", err)
	switch {
	case errors.Is(err, blob.ErrTooLarge):
		return info, fail(http.StatusRequestEntityTooLarge, "body larger than the declared size")
	case err != nil && body.err != nil: // the client's body failed, not the store
		if slow := (*slowBodyError)(nil); errors.As(body.err, &slow) {
			return info, body.err // 408
		}
		return info, fail(http.StatusBadRequest, "body shorter than the declared size")
	case err != nil:
		return info, blobDown(err)
	case info.Size != claim.DeclaredSize:
		s.deleteObjectsNow(context.WithoutCancel(req.Context()), key)
		return info, fail(http.StatusBadRequest, "body shorter than the declared size")
	}
	return info, nil
}
