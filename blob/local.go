package blob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Token errors of the local upload endpoint.
var (
	ErrBadToken     = errors.New("blob: invalid upload token")
	ErrExpiredToken = errors.New("blob: upload token expired")
)

// Local keeps objects as files under a root folder.
type Local struct {
	root   string
	secret []byte
	now    func() time.Time
}

// NewLocal opens (creating if needed) a folder store; secret signs upload tokens.
func NewLocal(root string, secret []byte) (*Local, error) {
	if len(secret) < 16 {
		return nil, errors.New("blob: local upload secret must be at least 16 bytes")
	}
	if err := os.MkdirAll(filepath.Join(root, ".tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("blob: local root: %w", err)
	}
	return &Local{root: root, secret: secret, now: time.Now}, nil
}

// SetClock replaces the clock used for token expiry (tests).
func (l *Local) SetClock(now func() time.Time) { l.now = now }

// path validates key and returns its file path.
func (l *Local) path(key string) (string, error) {
	if key == "" || strings.ContainsRune(key, 0) || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") ||
		filepath.IsAbs(key) || strings.HasPrefix(key, ".tmp") {
		return "", ErrInvalidKey
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." || part == ".." {
			return "", ErrInvalidKey
		}
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// PresignPut returns a signed path on this server: PUT /api/blobs/{token}.
func (l *Local) PresignPut(_ context.Context, key string, size int64, contentType string, ttl time.Duration) (PresignedPut, error) {
	if _, err := l.path(key); err != nil {
		return PresignedPut{}, err
	}
	exp := l.now().Add(ttl).UTC().Truncate(time.Second)
	return PresignedPut{
		URL:       "/api/blobs/" + l.sign(key, size, exp),
		Method:    "PUT",
		Headers:   map[string]string{"Content-Type": contentType},
		ExpiresAt: exp,
	}, nil
}

// sign builds payload(key, max size, expiry) + "." + HMAC-SHA256(payload), both base64url.
func (l *Local) sign(key string, size int64, exp time.Time) string {
	payload := make([]byte, 16, 16+len(key))
	binary.BigEndian.PutUint64(payload[0:8], uint64(size))
	binary.BigEndian.PutUint64(payload[8:16], uint64(exp.Unix()))
	payload = append(payload, key...)
	mac := hmac.New(sha256.New, l.secret)
	mac.Write(payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(mac.Sum(nil))
}

// VerifyToken checks an upload token and returns the object key and its maximum size.
func (l *Local) VerifyToken(token string) (key string, maxSize int64, err error) {
	enc := base64.RawURLEncoding
	p, m, ok := strings.Cut(token, ".")
	if !ok {
		return "", 0, ErrBadToken
	}
	payload, err1 := enc.DecodeString(p)
	sum, err2 := enc.DecodeString(m)
	if err1 != nil || err2 != nil || len(payload) < 17 {
		return "", 0, ErrBadToken
	}
	mac := hmac.New(sha256.New, l.secret)
	mac.Write(payload)
	if !hmac.Equal(sum, mac.Sum(nil)) {
		return "", 0, ErrBadToken
	}
	maxSize = int64(binary.BigEndian.Uint64(payload[0:8]))
	exp := time.Unix(int64(binary.BigEndian.Uint64(payload[8:16])), 0)
	if !l.now().Before(exp) {
		return "", 0, ErrExpiredToken
	}
	return string(payload[16:]), maxSize, nil
}

// Receive streams the body of a signed upload to its object.
func (l *Local) Receive(ctx context.Context, token string, r io.Reader, contentType string) (Info, error) {
	key, maxSize, err := l.VerifyToken(token)
	if err != nil {
		return Info{}, err
	}
	return l.Put(ctx, key, r, maxSize, contentType)
}

// Put writes r to a temporary file and renames it into place, so a reader never sees half an object.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, maxBytes int64, _ string) (Info, error) {
	dst, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	tmp, err := os.CreateTemp(filepath.Join(l.root, ".tmp"), "upload-*")
	if err != nil {
		return Info{}, fmt.Errorf("blob: local put: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	n, err := io.Copy(tmp, newLimitReader(ctxReader{ctx, r}, maxBytes))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return Info{}, ErrTooLarge
		}
		return Info{}, fmt.Errorf("blob: local put: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return Info{}, fmt.Errorf("blob: local put: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return Info{}, fmt.Errorf("blob: local put: %w", err)
	}
	info, err := l.Stat(ctx, key)
	if err == nil && info.Size != n {
		err = fmt.Errorf("blob: local put: wrote %d bytes, file has %d", n, info.Size)
	}
	return info, err
}

// Stat describes the object's file.
func (l *Local) Stat(_ context.Context, key string) (Info, error) {
	p, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return Info{}, ErrNotFound
	}
	if err != nil {
		return Info{}, fmt.Errorf("blob: local stat: %w", err)
	}
	return Info{
		Key:     key,
		Size:    fi.Size(),
		ETag:    fmt.Sprintf(`"%x-%x"`, fi.ModTime().UnixNano(), fi.Size()),
		ModTime: fi.ModTime().UTC(),
	}, nil
}

// Open opens the object's file for reading.
func (l *Local) Open(ctx context.Context, key string) (io.ReadSeekCloser, Info, error) {
	info, err := l.Stat(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	p, _ := l.path(key)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, Info{}, ErrNotFound
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("blob: local open: %w", err)
	}
	return f, info, nil
}

// Delete removes the object's file; a missing file is fine.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blob: local delete: %w", err)
	}
	return nil
}

// Ping checks that the root folder is there and writable.
func (l *Local) Ping(_ context.Context) error {
	f, err := os.CreateTemp(filepath.Join(l.root, ".tmp"), "ping-*")
	if err != nil {
		return fmt.Errorf("blob: local folder not writable: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
