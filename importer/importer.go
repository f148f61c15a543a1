// Package importer brings documents from elsewhere into a user's vault: a DocuVault export
// (zip) and a Paperless-ngx document_exporter folder. Every file goes through ingest (quota,
// types, classification queue); a file the user already holds (same SHA-256) is skipped, so
// an import can be run again after an interruption.
package importer

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/store"
)

// Adder adds one file as a document (ingest.Service).
type Adder interface {
	Add(ctx context.Context, userID string, f ingest.File) (store.Document, error)
}

// Store is what an import reads and writes besides adding files.
type Store interface {
	DocumentByChecksum(ctx context.Context, userID, sum string) (store.Document, error)
	RecordChecksum(ctx context.Context, id, sum string) error
	SetText(ctx context.Context, userID, id, text string) error
	VisibleTopics(ctx context.Context, userID string) ([]store.Topic, error)
	AddTopic(ctx context.Context, t store.Topic) (store.Topic, error)
	UpdateDocument(ctx context.Context, userID, id string, p store.DocumentPatch) (store.Document, error)
	QuotaOf(ctx context.Context, userID string) (store.Quota, error)
}

// Options shape an import.
type Options struct {
	DryRun   bool                  // check everything and report the space needed; add nothing
	Progress func(done, total int) // after each file; may be nil
	Topics   bool                  // assign topics (tags, and for Paperless optionally more)
}

// Problem is a file that was not imported, and why.
type Problem struct {
	Name   string
	Reason string
}

// Report sums up an import (or a dry run).
type Report struct {
	Total       int
	Imported    int
	Skipped     int   // already there (same SHA-256)
	Bytes       int64 // imported, or for a dry run needed
	FreeBytes   int64 // room left in the quota before the import
	TopicsAdded int
	Problems    []Problem
}

// TopicRef is a topic a file should carry, by name.
type TopicRef struct {
	Name, Description, Color string
}

// item is one file to import.
type item struct {
	name        string // where it is in the source, for reports
	filename    string
	contentType string
	size        int64  // -1 unknown
	sha256      string // expected, "" unknown
	md5         string // expected (Paperless), "" unknown
	text        string
	topics      []TopicRef
	open        func() (io.ReadCloser, error) // errors.Is(err, fs.ErrNotExist) for a missing file
}

// errMissing marks a file the source names but does not hold.
var errMissing = errors.New("file missing from the export")

// run imports items for userID.
func run(ctx context.Context, st Store, add Adder, userID string, items []item, o Options) (Report, error) {
	rep := Report{Total: len(items)}
	q, err := st.QuotaOf(ctx, userID)
	if err != nil {
		return rep, fmt.Errorf("import: quota: %w", err)
	}
	rep.FreeBytes = max(q.LimitBytes-q.UsedBytes-q.PendingBytes, 0)
	topics := &topicResolver{st: st, userID: userID}
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		err := importOne(ctx, st, add, userID, it, o, topics, &rep)
		if err != nil {
			var r *ingest.Refusal
			switch {
			case errors.Is(err, errMissing), errors.Is(err, errChecksum):
				rep.Problems = append(rep.Problems, Problem{it.name, problemText(err)})
			case errors.As(err, &r) && r.Kind == ingest.KindQuotaExceeded:
				rep.Problems = append(rep.Problems, Problem{it.name, r.Message})
				return rep, fmt.Errorf("import stopped: %s (%d of %d files done; run a dry run to see the space needed)", r.Message, i, len(items))
			case errors.As(err, &r):
				rep.Problems = append(rep.Problems, Problem{it.name, r.Message})
			default:
				return rep, fmt.Errorf("import %s: %w", it.name, err)
			}
		}
		if o.Progress != nil {
			o.Progress(i+1, len(items))
		}
	}
	rep.TopicsAdded = topics.added
	return rep, nil
}

func importOne(ctx context.Context, st Store, add Adder, userID string, it item, o Options, topics *topicResolver, rep *Report) error {
	sum, size := it.sha256, it.size
	if sum == "" || o.DryRun {
		// The checksum decides whether the file is there already, and must hold before
		// anything is stored: one pass to hash (and check Paperless's MD5), one to add.
		var err error
		if sum, size, err = hashFile(it); err != nil {
			return err
		}
	}
	if _, err := st.DocumentByChecksum(ctx, userID, sum); err == nil {
		rep.Skipped++
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if o.DryRun {
		rep.Bytes += size
		return nil
	}
	r, err := it.open()
	if err != nil {
		return err
	}
	defer r.Close()
	body := newVerifier(r, sum, it.md5, size)
	d, err := add.Add(ctx, userID, ingest.File{Filename: it.filename, ContentType: it.contentType, Body: body, Size: size})
	var ref *ingest.Refusal
	if errors.As(err, &ref) && ref.Kind == ingest.KindDuplicate {
		rep.Skipped++
		return nil
	}
	if err != nil {
		return err
	}
	rep.Imported++
	rep.Bytes += d.SizeBytes
	// Stores that do not hash while writing (S3) learn the checksum here, so the next run
	// finds the file; the worker would record the same.
	if err := st.RecordChecksum(ctx, d.ID, sum); err != nil {
		return err
	}
	if it.text != "" {
		if err := st.SetText(ctx, userID, d.ID, it.text); err != nil {
			return err
		}
	}
	if o.Topics && len(it.topics) > 0 {
		ids, err := topics.ids(ctx, it.topics)
		if err != nil {
			return err
		}
		if _, err := st.UpdateDocument(ctx, userID, d.ID, store.DocumentPatch{TopicIDs: &ids}); err != nil {
			return err
		}
	}
	return nil
}

// errChecksum is a file whose bytes differ from what its manifest says.
var errChecksum = errors.New("checksum does not match the manifest")

// hashFile reads a file once for its SHA-256 and size, checking the expected sums.
func hashFile(it item) (string, int64, error) {
	r, err := it.open()
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	v := newVerifier(r, it.sha256, it.md5, -1)
	n, err := io.Copy(io.Discard, v)
	if err != nil {
		return "", 0, err
	}
	return v.sum, n, nil
}

// problemText is the reason a file was passed over, without the package prefixes.
func problemText(err error) string {
	if errors.Is(err, errMissing) {
		return errMissing.Error()
	}
	var r *ingest.Refusal
	if errors.As(err, &r) && r.Err != nil {
		err = r.Err
	}
	return err.Error()
}

// verifier hashes what is read and fails at the end when a sum differs from the expected
// one, so ingest refuses the file and keeps nothing. The end is the expected size when it
// is known: a blob store that reads exactly that many bytes never asks for EOF.
type verifier struct {
	r               io.Reader
	sha, md         hash.Hash
	wantSHA, wantMD string
	size, n         int64
	sum             string
	checked         bool
}

func newVerifier(r io.Reader, wantSHA, wantMD5 string, size int64) *verifier {
	return &verifier{r: r, sha: sha256.New(), md: md5.New(), wantSHA: strings.ToLower(wantSHA), wantMD: strings.ToLower(wantMD5), size: size}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.sha.Write(p[:n])
	v.md.Write(p[:n])
	v.n += int64(n)
	if (errors.Is(err, io.EOF) || (v.size >= 0 && v.n == v.size)) && !v.checked {
		v.checked = true
		v.sum = hex.EncodeToString(v.sha.Sum(nil))
		if v.wantSHA != "" && v.sum != v.wantSHA {
			return n, fmt.Errorf("SHA-256 %w", errChecksum)
		}
		if md := hex.EncodeToString(v.md.Sum(nil)); v.wantMD != "" && md != v.wantMD {
			return n, fmt.Errorf("MD5 %w", errChecksum)
		}
	}
	if errors.Is(err, io.EOF) && v.size >= 0 && v.n != v.size {
		return n, fmt.Errorf("%d bytes where the manifest says %d: %w", v.n, v.size, errChecksum)
	}
	return n, err
}
