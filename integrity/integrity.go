// Package integrity proves that the stored bytes are the ones confirmed: every confirmed
// document has its object with the confirmed size and SHA-256, no object lives without a row,
// no temp file outlives its upload, and the quota counters match the documents. It backs
// `docuvault check` and the scheduled integrity sweep.
package integrity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/store"
)

// Options tune one check.
type Options struct {
	Fix bool // repair what can be repaired
	// OrphanAge is how old an object without a row must be before it counts as an orphan: the
	// upload-URL lifetime, so an upload in flight is never taken for one.
	OrphanAge time.Duration
	// TempAge is how long a temp file of the local store must go unwritten before it counts
	// as left by an interrupted upload: at least the longest an upload may take (its body
	// may pause that long), never less than blob.StaleTempAge.
	TempAge time.Duration
	Now     func() time.Time
}

// Problem is one thing found wrong.
type Problem struct {
	Kind       string // missing, size, checksum, unrecorded, orphan, quota
	DocumentID string // "" for orphans and quotas
	Key        string
	Detail     string
	Fixed      bool
}

func (p Problem) String() string {
	s := fmt.Sprintf("%-10s", p.Kind)
	if p.DocumentID != "" {
		s += " document=" + p.DocumentID
	}
	if p.Key != "" {
		s += " key=" + p.Key
	}
	s += "  " + p.Detail
	if p.Fixed {
		s += " (fixed)"
	}
	return s
}

// Report is what a check found.
type Report struct {
	Documents     int // confirmed documents checked
	Objects       int // objects listed in the store
	TempRemoved   int // stale temp files of interrupted uploads removed
	QuotasChecked bool
	Problems      []Problem
}

// Unfixed counts the problems still there.
func (r Report) Unfixed() int {
	n := 0
	for _, p := range r.Problems {
		if !p.Fixed {
			n++
		}
	}
	return n
}

// Write prints the counts, then one line per problem.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "documents checked: %d\nobjects listed: %d\ntemp files removed: %d\nproblems: %d (unfixed: %d)\n",
		r.Documents, r.Objects, r.TempRemoved, len(r.Problems), r.Unfixed())
	for _, p := range r.Problems {
		fmt.Fprintln(w, p.String())
	}
}

// Blobs is what the check needs of the blob store.
type Blobs interface {
	Open(ctx context.Context, key string) (io.ReadSeekCloser, blob.Info, error)
	List(ctx context.Context, prefix string, fn func(blob.Info) error) error
	Delete(ctx context.Context, key string) error
}

// tempCleaner is a blob store with a temp folder (the local store).
type tempCleaner interface {
	CleanTemp(olderThan time.Duration) (int, error)
}

const pageSize = 200

// Check runs every check and, with Fix, repairs: it records a missing checksum, deletes
// orphans, removes stale temp files and recomputes drifted quota counters. Bytes that are
// missing or changed cannot be repaired; they are reported.
func Check(ctx context.Context, st *store.Store, blobs Blobs, o Options) (Report, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	var r Report
	if err := checkDocuments(ctx, st, blobs, o, &r); err != nil {
		return r, err
	}
	if err := checkOrphans(ctx, st, blobs, o, &r); err != nil {
		return r, err
	}
	if tc, ok := blobs.(tempCleaner); ok {
		n, err := tc.CleanTemp(max(o.TempAge, blob.StaleTempAge))
		r.TempRemoved = n
		if err != nil {
			return r, err
		}
	}
	return r, checkQuotas(ctx, st, o, &r)
}

// checkDocuments reads every confirmed document's object, page by page.
func checkDocuments(ctx context.Context, st *store.Store, blobs Blobs, o Options, r *Report) error {
	after := ""
	for {
		page, err := st.ConfirmedDocuments(ctx, after, pageSize)
		if err != nil {
			return err
		}
		for _, d := range page {
			p, err := checkDocument(ctx, st, blobs, d, o.Fix)
			if p != nil || err != nil {
				// Deleted since the page was read: its object may be gone or going, which
				// is no problem, and no reason to stop the whole check either.
				if gone, gerr := deleted(ctx, st, d); gerr != nil {
					return gerr
				} else if gone {
					continue
				}
			}
			if err != nil {
				return err
			}
			r.Documents++
			if p != nil {
				r.Problems = append(r.Problems, *p)
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// deleted tells whether d's row is gone (a document id never comes back).
func deleted(ctx context.Context, st *store.Store, d store.StoredDocument) (bool, error) {
	_, err := st.Document(ctx, d.UserID, d.ID)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	return false, err
}

func checkDocument(ctx context.Context, st *store.Store, blobs Blobs, d store.StoredDocument, fix bool) (*Problem, error) {
	p := &Problem{DocumentID: d.ID, Key: d.ObjectKey}
	rc, info, err := blobs.Open(ctx, d.ObjectKey)
	if errors.Is(err, blob.ErrNotFound) {
		p.Kind, p.Detail = "missing", "object not found"
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("integrity: open %s: %w", d.ObjectKey, err)
	}
	defer rc.Close()
	if info.Size != d.SizeBytes {
		p.Kind, p.Detail = "size", fmt.Sprintf("object has %d bytes, %d confirmed", info.Size, d.SizeBytes)
		return p, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return nil, fmt.Errorf("integrity: read %s: %w", d.ObjectKey, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	switch {
	case d.SHA256 == sum:
		return nil, nil
	case d.SHA256 == "":
		p.Kind, p.Detail = "unrecorded", "no checksum recorded yet"
		if fix {
			if err := st.RecordChecksum(ctx, d.ID, sum); err != nil {
				return nil, err
			}
			p.Fixed = true
		}
		return p, nil
	}
	p.Kind, p.Detail = "checksum", "stored bytes differ from the confirmed ones (sha256 "+sum+", confirmed "+d.SHA256+")"
	return p, nil
}

// checkOrphans lists every object and flags those no row refers to, once older than
// OrphanAge.
func checkOrphans(ctx context.Context, st *store.Store, blobs Blobs, o Options, r *Report) error {
	cutoff := o.Now().Add(-o.OrphanAge)
	var batch []string
	flush := func() error {
		known, err := st.KnownObjects(ctx, batch)
		if err != nil {
			return err
		}
		for _, k := range batch {
			if known[k] {
				continue
			}
			p := Problem{Kind: "orphan", Key: k, Detail: "object without a document"}
			if o.Fix {
				if err := blobs.Delete(ctx, k); err != nil {
					return fmt.Errorf("integrity: delete orphan %s: %w", k, err)
				}
				p.Fixed = true
			}
			r.Problems = append(r.Problems, p)
		}
		batch = batch[:0]
		return nil
	}
	err := blobs.List(ctx, "", func(i blob.Info) error {
		r.Objects++
		if !i.ModTime.Before(cutoff) {
			return nil // may be an upload in flight
		}
		batch = append(batch, i.Key)
		if len(batch) == pageSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return err
}

// checkQuotas compares the quota counters with the documents.
func checkQuotas(ctx context.Context, st *store.Store, o Options, r *Report) error {
	drifts, err := st.QuotaDrifts(ctx)
	if err != nil {
		return err
	}
	r.QuotasChecked = true
	if len(drifts) > 0 && o.Fix {
		if _, err := st.ReconcileQuotas(ctx); err != nil {
			return err
		}
	}
	for _, d := range drifts {
		p := Problem{Kind: "quota", Detail: fmt.Sprintf("user=%s used_bytes %d, documents sum to %d; pending_bytes %d, pending uploads declare %d",
			d.UserID, d.UsedBytes, d.ActualUsed, d.PendingBytes, d.ActualHeld)}
		if o.Fix {
			if err := st.ReconcilePending(ctx, d.UserID); err != nil {
				return err
			}
			p.Fixed = true
		}
		r.Problems = append(r.Problems, p)
	}
	return nil
}
