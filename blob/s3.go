package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names a bucket on MinIO or any S3-compatible service.
type S3Config struct {
	Endpoint       string // host:port the server reaches
	PublicEndpoint string // host:port browsers reach, for presigned URLs (defaults to Endpoint)
	AccessKey      string
	SecretKey      string
	Bucket         string
	Region         string
	UseSSL         bool
}

// S3 keeps objects in one bucket.
type S3 struct {
	client *minio.Client // talks to the store
	signer *minio.Client // only signs URLs for the public endpoint (never dials it)
	bucket string
}

// NewS3 connects to the bucket, creating it if missing.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	opts := func() *minio.Options {
		return &minio.Options{
			Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
			Secure: cfg.UseSSL,
			Region: cfg.Region, // a set region means presigning never asks the server
		}
	}
	client, err := minio.New(cfg.Endpoint, opts())
	if err != nil {
		return nil, fmt.Errorf("blob: s3 client: %w", err)
	}
	signer := client
	if cfg.PublicEndpoint != "" && cfg.PublicEndpoint != cfg.Endpoint {
		if signer, err = minio.New(cfg.PublicEndpoint, opts()); err != nil {
			return nil, fmt.Errorf("blob: s3 public endpoint: %w", err)
		}
	}
	s := &S3{client: client, signer: signer, bucket: cfg.Bucket}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			if code := minio.ToErrorResponse(err).Code; code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return nil, fmt.Errorf("blob: s3 create bucket %s: %w", cfg.Bucket, err)
			}
		}
	}
	return s, nil
}

func s3Err(op string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NotFound":
		return ErrNotFound
	}
	return fmt.Errorf("blob: s3 %s: %w", op, err)
}

// PresignPut signs a browser-style POST upload (a POST policy) for the public endpoint: the
// policy names the exact key, the content type and the exact size (content-length-range),
// so the store itself refuses any other size. Not a presigned PUT: S3 does not sign the
// headers a client adds to one, and a PUT carrying x-amz-copy-source becomes a server-side
// copy of any object in the bucket (another user's document, or one of any size) into the
// staging key; a POST upload can only carry the bytes sent with it.
func (s *S3) PresignPut(ctx context.Context, key string, size int64, contentType string, ttl time.Duration) (PresignedPut, error) {
	if key == "" || size < 0 {
		return PresignedPut{}, ErrInvalidKey
	}
	exp := time.Now().Add(ttl).UTC().Truncate(time.Second)
	p := minio.NewPostPolicy()
	// A policy cannot say "exactly 0 bytes" (its maximum must be positive): an empty upload
	// may carry one byte, which confirm charges like any other.
	maxLen := max(size, 1)
	for _, err := range []error{p.SetBucket(s.bucket), p.SetKey(key), p.SetExpires(exp), p.SetContentType(contentType),
		p.SetContentLengthRange(size, maxLen), p.SetSuccessStatusAction("200")} {
		if err != nil {
			return PresignedPut{}, fmt.Errorf("blob: s3 post policy: %w", err)
		}
	}
	u, fields, err := s.signer.PresignedPostPolicy(ctx, p)
	if err != nil {
		return PresignedPut{}, s3Err("presign post", err)
	}
	return PresignedPut{URL: u.String(), Method: "POST", Headers: map[string]string{}, Fields: fields, ExpiresAt: exp}, nil
}

// PresignGet signs a short-lived GET that makes the browser save the file under its name.
func (s *S3) PresignGet(ctx context.Context, key string, ttl time.Duration, disposition, contentType string) (string, error) {
	q := url.Values{}
	q.Set("response-content-disposition", disposition)
	if contentType != "" {
		q.Set("response-content-type", contentType)
	}
	u, err := s.signer.PresignedGetObject(ctx, s.bucket, key, ttl, q)
	if err != nil {
		return "", s3Err("presign get", err)
	}
	return u.String(), nil
}

// Put streams r into the bucket (multipart for unknown sizes), refusing more than maxBytes;
// the SHA-256 is computed on the way through.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, maxBytes int64, contentType string) (Info, error) {
	sum := sha256.New()
	_, err := s.client.PutObject(ctx, s.bucket, key, io.TeeReader(newLimitReader(r, maxBytes), sum), -1,
		minio.PutObjectOptions{ContentType: contentType, PartSize: 16 << 20})
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return Info{}, ErrTooLarge
		}
		return Info{}, s3Err("put", err)
	}
	info, err := s.Stat(ctx, key)
	info.SHA256 = hex.EncodeToString(sum.Sum(nil))
	return info, err
}

// Move copies src to dst inside the store (no bytes through this server) and then deletes
// src; with src gone and dst there it only describes dst.
func (s *S3) Move(ctx context.Context, src, dst string) (Info, error) {
	if err := s.copy(ctx, src, dst); err != nil {
		if err = s3Err("move", err); !errors.Is(err, ErrNotFound) {
			return Info{}, err
		}
		return s.Stat(ctx, dst) // moved before
	}
	if err := s.Delete(ctx, src); err != nil {
		return Info{}, err
	}
	return s.Stat(ctx, dst)
}

// copyAttempts is how often a server-side copy is sent while the store answers AccessDenied.
const copyAttempts = 3

// copyRetryWait is the wait before the second attempt; each later wait is four times longer.
const copyRetryWait = 25 * time.Millisecond

// copy copies src to dst inside the bucket. A single-drive MinIO removes a folder when its
// last object goes and answers AccessDenied to a write that lands in that folder at that
// moment (minio/minio#15157): a confirm moving one upload into u/<user>/ while the user's
// only other document is deleted, or out of a staging folder another move is emptying. The
// copy is sent again then; a lasting refusal (wrong credentials, a bucket policy) still
// ends in its error after copyAttempts. minio-go itself resends 5xx answers.
func (s *S3) copy(ctx context.Context, src, dst string) error {
	wait := copyRetryWait
	for attempt := 1; ; attempt++ {
		_, err := s.client.CopyObject(ctx, minio.CopyDestOptions{Bucket: s.bucket, Object: dst},
			minio.CopySrcOptions{Bucket: s.bucket, Object: src})
		if err == nil || attempt == copyAttempts || minio.ToErrorResponse(err).Code != "AccessDenied" {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 4
	}
}

// List pages through the bucket's keys under prefix.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn fails
	for oi := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return s3Err("list", oi.Err)
		}
		if err := fn(Info{Key: oi.Key, Size: oi.Size, ETag: `"` + oi.ETag + `"`, ModTime: oi.LastModified.UTC()}); err != nil {
			return err
		}
	}
	return nil
}

// Stat asks the bucket for the object's size.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s3Err("stat", err)
	}
	return Info{Key: key, Size: oi.Size, ContentType: oi.ContentType, ETag: `"` + oi.ETag + `"`, ModTime: oi.LastModified.UTC()}, nil
}

// Open reads the object with seeking.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, Info, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s3Err("get", err)
	}
	return obj, info, nil
}

// Delete removes the object (S3 deletes are idempotent).
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s3Err("delete", err)
	}
	return nil
}

// Ping checks that the bucket answers.
func (s *S3) Ping(ctx context.Context) error {
	if _, err := s.client.BucketExists(ctx, s.bucket); err != nil {
		return fmt.Errorf("blob: s3 unreachable: %w", err)
	}
	return nil
}
