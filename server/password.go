package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id costs; they are written into each hash so they can be
// raised later without breaking old hashes.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams follow the RFC 9106 second recommendation (64 MiB, 3 passes).
var DefaultPasswordParams = PasswordParams{Memory: 64 * 1024, Time: 3, Threads: 2}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

var errBadHash = errors.New("password: malformed hash")

// HashPassword returns an argon2id hash string: $argon2id$v=19$m=…,t=…,p=…$salt$key.
func HashPassword(password string, p PasswordParams) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// dummyHash is a well-formed hash with the costs of p and random salt and key: verifying any
// password against it costs what a real check costs, so unknown users take as long as known
// ones. Nothing is computed up front, so a start allocates none of argon2id's memory.
func dummyHash(p PasswordParams) (string, error) {
	b := make([]byte, 16+32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(b[:16]), enc.EncodeToString(b[16:])), nil
}

// CheckPassword compares in constant time, with the parameters stored in the hash.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// RandomPassword makes a temporary password of 20 characters from an unambiguous alphabet.
func RandomPassword() string {
	return randomString(20, "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
}

// randomString draws n characters of alphabet from crypto/rand.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	buf := make([]byte, 1)
	max := byte(256 - 256%len(alphabet))
	for i := 0; i < n; {
		_, _ = rand.Read(buf)
		if buf[0] >= max {
			continue // reject to keep the draw uniform
		}
		b[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(b)
}

// hashLimiter bounds how many argon2id computations (64 MiB each by default) run at once,
// so a burst of logins cannot exhaust memory.
type hashLimiter chan struct{}

func newHashLimiter() hashLimiter { return make(hashLimiter, max(2, runtime.NumCPU())) }

// check verifies password against hash, waiting for a free slot (or the request's end).
func (l hashLimiter) check(ctx context.Context, hash, password string) (bool, error) {
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-l }()
	return CheckPassword(hash, password)
}
