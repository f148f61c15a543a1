package blob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StaleTempAge is how long a temp file may go unwritten before it counts as left by an
// interrupted upload: a live upload touches its file with every write.
const StaleTempAge = 15 * time.Minute

// ErrStoreMissing is a local store whose root folder is gone (an unmounted disk, say): a
// missing object then proves nothing, so deletions are not counted as done.
var ErrStoreMissing = errors.New("blob: local store folder missing")

// Token errors of the local upload endpoint.
var (
	ErrBadToken     = errors.New("blob: invalid upload token")
	ErrExpiredToken = errors.New("blob: upload token expired")
)

// Local keeps objects as files under a root folder.
type Local struct {
	root    string
	secret  []byte
	now     func() time.Time
	folders folderSyncs
}

// NewLocal opens (creating if needed) a folder store; secret signs upload tokens. Temp files
// left by interrupted uploads (untouched for StaleTempAge) are removed.
func NewLocal(root string, secret []byte) (*Local, error) {
	if len(secret) < 16 {
		return nil, errors.New("blob: local upload secret must be at least 16 bytes")
	}
	if err := os.MkdirAll(filepath.Join(root, ".tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("blob: local root: %w", err)
	}
	l := &Local{root: root, secret: secret, now: time.Now}
	if _, err := l.CleanTemp(StaleTempAge); err != nil {
		return nil, err
	}
	return l, nil
}

// healthy reports whether the root folder is there; ErrStoreMissing if not.
func (l *Local) healthy() error {
	fi, err := os.Stat(l.root)
	if errors.Is(err, os.ErrNotExist) || (err == nil && !fi.IsDir()) {
		return fmt.Errorf("%w: %s", ErrStoreMissing, l.root)
	}
	if err != nil {
		return fmt.Errorf("blob: local root: %w", err)
	}
	return nil
}

// tempFile creates a temp file, recreating the temp folder when the blob folder was
// replaced by an empty one (never the root itself: a missing root is a fault to report).
func (l *Local) tempFile(pattern string) (*os.File, error) {
	dir := filepath.Join(l.root, ".tmp")
	f, err := os.CreateTemp(dir, pattern)
	if errors.Is(err, os.ErrNotExist) {
		if herr := l.healthy(); herr != nil {
			return nil, herr
		}
		if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("blob: local temp folder: %w", err)
		}
		f, err = os.CreateTemp(dir, pattern)
	}
	return f, err
}

// CleanTemp removes temp files untouched for olderThan (left by interrupted uploads) and
// returns how many it removed.
func (l *Local) CleanTemp(olderThan time.Duration) (int, error) {
	entries, err := os.ReadDir(filepath.Join(l.root, ".tmp"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("blob: local temp folder: %w", err)
	}
	cutoff := l.now().Add(-olderThan)
	n := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || e.IsDir() || !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(l.root, ".tmp", e.Name())); err == nil {
			n++
		} else if !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("blob: local temp cleanup: %w", err)
		}
	}
	return n, nil
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

// InlineHashLimit is the largest signed upload whose SHA-256 is computed while it streams in.
// Hashing runs at about the speed of writing to the disk cache, so on a small machine it
// would set the pace of a large upload: a larger one is stored at the speed of the disk and
// left unhashed (Info.SHA256 empty), as an upload straight to S3 is, for the classification
// worker, which reads the file anyway, to hash and check for duplicates.
const InlineHashLimit = 64 << 20

// Receive streams the body of a signed upload to its object (see PutDeclared).
func (l *Local) Receive(ctx context.Context, token string, r io.Reader, contentType string) (Info, error) {
	key, maxSize, err := l.VerifyToken(token)
	if err != nil {
		return Info{}, err
	}
	return l.PutDeclared(ctx, key, r, maxSize, contentType)
}

// PutDeclared stores the body of a signed upload of declared bytes as Put does, hashing the
// bytes only if declared is at most InlineHashLimit. It writes the document's own name,
// which its confirm only looks at, so the name is made durable here, before the upload is
// acknowledged.
func (l *Local) PutDeclared(ctx context.Context, key string, r io.Reader, declared int64, _ string) (Info, error) {
	return l.put(ctx, key, r, declared, putOptions{hash: declared <= InlineHashLimit, syncFolder: true})
}

// putOptions says what put does beyond writing the bytes and syncing them.
type putOptions struct {
	hash       bool // compute the SHA-256
	syncFolder bool // sync the folder after the rename, making the name durable
}

// Put writes r to a temporary file and renames it into place, so a reader never sees half an
// object. The SHA-256 is computed in the same pass.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, maxBytes int64, _ string) (Info, error) {
	return l.put(ctx, key, r, maxBytes, putOptions{hash: true, syncFolder: true})
}

// put writes r to key as Put describes, doing what o asks.
func (l *Local) put(ctx context.Context, key string, r io.Reader, maxBytes int64, o putOptions) (Info, error) {
	dst, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	tmp, err := l.tempFile("upload-*")
	if err != nil {
		return Info{}, fmt.Errorf("blob: local put: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed { // an unlink of a name already gone costs a system call per upload
			os.Remove(tmp.Name())
		}
	}()
	n, sum, err := copyHashing(&writeBehind{f: tmp}, newLimitReader(ctxReader{ctx, r}, maxBytes), o.hash)
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
	if err := l.mkdirDurable(filepath.Dir(dst)); err != nil {
		return Info{}, fmt.Errorf("blob: local put: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return Info{}, fmt.Errorf("blob: local put: %w", err)
	}
	renamed = true
	// The file's bytes were synced before the rename; the folder's sync makes the name
	// durable, so an acknowledged upload survives a crash.
	if o.syncFolder {
		if err := l.folders.sync(filepath.Dir(dst)); err != nil {
			return Info{}, fmt.Errorf("blob: local put: %w", err)
		}
	}
	info, err := l.Stat(ctx, key)
	if err == nil && info.Size != n {
		err = fmt.Errorf("blob: local put: wrote %d bytes, file has %d", n, info.Size)
	}
	if sum != nil {
		info.SHA256 = hex.EncodeToString(sum)
	}
	return info, err
}

// Move renames the file of src to dst; with src gone and dst there it only describes dst.
func (l *Local) Move(ctx context.Context, src, dst string) (Info, error) {
	from, err := l.path(src)
	if err != nil {
		return Info{}, err
	}
	to, err := l.path(dst)
	if err != nil {
		return Info{}, err
	}
	if err := l.mkdirDurable(filepath.Dir(to)); err != nil {
		return Info{}, fmt.Errorf("blob: local move: %w", err)
	}
	err = os.Rename(from, to)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Info{}, fmt.Errorf("blob: local move: %w", err)
	}
	if err == nil { // the new name is made durable before the move is reported done
		if err := l.folders.sync(filepath.Dir(to)); err != nil {
			return Info{}, fmt.Errorf("blob: local move: %w", err)
		}
	}
	return l.Stat(ctx, dst)
}

// List walks the folder (not the temp folder) for keys starting with prefix.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := l.healthy(); err != nil {
		return err
	}
	err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && p != l.root {
				return nil // removed while walking
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(l.root, p)
		if rerr != nil {
			return rerr
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if key == ".tmp" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, ierr := d.Info()
		if errors.Is(ierr, os.ErrNotExist) {
			return nil
		}
		if ierr != nil {
			return ierr
		}
		return fn(Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime().UTC()})
	})
	if err != nil {
		return fmt.Errorf("blob: local list: %w", err)
	}
	return nil
}

// Stat describes the object's file.
func (l *Local) Stat(_ context.Context, key string) (Info, error) {
	p, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		if herr := l.healthy(); herr != nil {
			return Info{}, herr // not "not found": the whole folder is gone
		}
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

// Delete removes the object's file. A missing file counts as deleted only while the root
// folder is there: with the folder gone (unmounted) the file may come back with it.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("blob: local delete: %w", err)
		}
		if herr := l.healthy(); herr != nil {
			return fmt.Errorf("blob: local delete %s: %w", key, herr)
		}
	}
	return nil
}

// Ping checks that the root folder is there and writable.
func (l *Local) Ping(_ context.Context) error {
	f, err := l.tempFile("ping-*")
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
