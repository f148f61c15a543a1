// Package blob stores document bytes: in a local folder (uploads through signed URLs served
// by this binary) or in MinIO/S3 (presigned URLs, bytes never pass through the server).
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors every implementation returns for the same situations.
var (
	ErrNotFound   = errors.New("blob: object not found")
	ErrTooLarge   = errors.New("blob: object larger than allowed")
	ErrInvalidKey = errors.New("blob: invalid object key")
)

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ETag        string
	ModTime     time.Time
	SHA256      string // hex; set by Put and Move on the local store, which see every byte
}

// PresignedPut is what a client needs to send the bytes of one object.
type PresignedPut struct {
	URL     string // absolute for S3; a path on this server for the local store
	Method  string
	Headers map[string]string
	// Fields are the form fields of a POST upload (S3): a multipart/form-data body with these
	// fields first and the bytes last, in a field named "file". Empty for a PUT.
	Fields    map[string]string
	ExpiresAt time.Time
}

// Store is one place objects live.
type Store interface {
	// PresignPut returns a request that uploads at most size bytes to key until ttl passes.
	PresignPut(ctx context.Context, key string, size int64, contentType string, ttl time.Duration) (PresignedPut, error)
	// Put streams r to key, refusing (ErrTooLarge) anything past maxBytes.
	Put(ctx context.Context, key string, r io.Reader, maxBytes int64, contentType string) (Info, error)
	// Stat describes key, or ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// Open reads key with seeking (for ranges), or ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, Info, error)
	// Move renames src to dst (server-side) and describes dst. It is idempotent: with src
	// gone and dst present it only describes dst; with both gone it is ErrNotFound.
	Move(ctx context.Context, src, dst string) (Info, error)
	// List calls fn for every object whose key starts with prefix, in no set order.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Delete removes key; a missing key is not an error when the store itself is healthy.
	Delete(ctx context.Context, key string) error
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
}

// GetPresigner is a Store that can hand out a short-lived download URL.
type GetPresigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration, contentDisposition, contentType string) (string, error)
}

// ErrShort is a body that ended before the declared size.
var ErrShort = errors.New("blob: body shorter than the declared size")

// limitReader fails with ErrTooLarge once more than max bytes were read.
type limitReader struct {
	r   io.Reader
	n   int64 // bytes still allowed
	max int64
}

func newLimitReader(r io.Reader, max int64) *limitReader {
	return &limitReader{r: r, n: max, max: max}
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, ErrTooLarge
	}
	return n, err
}
