package intake

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Keyring seals mail-account passwords with AES-256-GCM. The first key seals; every key
// opens, so a rotated-out key still reads what it sealed until `docuvault mail rekey` has
// re-sealed everything with the current one. A sealed value is "v1:<key id>:<base64 of
// nonce and ciphertext>", the key id being the first 8 hex digits of the key's SHA-256, and
// the account id is the additional data, so a value copied onto another account does not
// open.
type Keyring struct {
	keys []keyEntry
}

type keyEntry struct {
	id   string
	aead cipher.AEAD
}

// ErrKeyUnknown means a sealed password names a key the keyring does not hold.
var ErrKeyUnknown = errors.New("intake: mail password sealed with a key that is not configured")

// NewKeyring builds a keyring from raw 32-byte keys, the sealing key first.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("intake: a mail key is required")
	}
	k := &Keyring{}
	for i, raw := range keys {
		if len(raw) != 32 {
			return nil, fmt.Errorf("intake: mail key %d is %d bytes, want 32", i, len(raw))
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("intake: mail key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("intake: mail key %d: %w", i, err)
		}
		sum := sha256.Sum256(raw)
		k.keys = append(k.keys, keyEntry{id: hex.EncodeToString(sum[:4]), aead: aead})
	}
	return k, nil
}

// ParseKey reads a base64 key of 32 bytes (config intake.mail_key).
func ParseKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 32 {
		return nil, errors.New("want the base64 of 32 random bytes (openssl rand -base64 32)")
	}
	return b, nil
}

// SecretStore keeps one value per name shared by every replica (store.Store.Secret).
type SecretStore interface {
	Secret(ctx context.Context, name string, generate func() string) (string, error)
}

// InstanceKey is the mail key kept in the database (used when intake.mail_key is empty):
// made once, at random, and shared by every replica of the database.
func InstanceKey(ctx context.Context, st SecretStore) ([]byte, error) {
	v, err := st.Secret(ctx, "mail_key", func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	})
	if err != nil {
		return nil, fmt.Errorf("intake: instance mail key: %w", err)
	}
	return ParseKey(v)
}

// Seal encrypts a password for the account accountID with the current key.
func (k *Keyring) Seal(accountID, password string) (string, error) {
	cur := k.keys[0]
	nonce := make([]byte, cur.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("intake: seal: %w", err)
	}
	ct := cur.aead.Seal(nonce, nonce, []byte(password), []byte(accountID))
	return "v1:" + cur.id + ":" + base64.StdEncoding.EncodeToString(ct), nil
}

// Open decrypts a sealed password of the account accountID with whichever key sealed it.
func (k *Keyring) Open(accountID, sealed string) (string, error) {
	parts := strings.SplitN(sealed, ":", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return "", errors.New("intake: open mail password: unknown format")
	}
	for _, e := range k.keys {
		if e.id != parts[1] {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(parts[2])
		if err != nil || len(b) < e.aead.NonceSize() {
			return "", errors.New("intake: open mail password: malformed")
		}
		pt, err := e.aead.Open(nil, b[:e.aead.NonceSize()], b[e.aead.NonceSize():], []byte(accountID))
		if err != nil {
			return "", fmt.Errorf("intake: open mail password: %w", err)
		}
		return string(pt), nil
	}
	return "", ErrKeyUnknown
}

// Current tells whether sealed was sealed with the current key (rekey skips those).
func (k *Keyring) Current(sealed string) bool {
	return strings.HasPrefix(sealed, "v1:"+k.keys[0].id+":")
}
