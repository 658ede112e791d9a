package credential

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// MasterKeySize is the length of a master key in bytes (AES-256).
const MasterKeySize = 32

// MasterKey is a 256-bit key-encryption key and its id. It redacts itself
// when printed.
type MasterKey struct {
	// ID names the key in stored data keys. Default (empty): derived from
	// the key itself ("local-" + 16 hex digits of an HMAC), so the same key
	// always gets the same id without configuration.
	ID  string
	Key []byte
}

// String redacts the key material.
func (k MasterKey) String() string { return "MasterKey{ID:" + k.ID + ", Key:[REDACTED]}" }

// GoString redacts the key material.
func (k MasterKey) GoString() string { return k.String() }

// ParseMasterKey decodes a base64 (standard or URL alphabet, padded or not)
// 32-byte master key. The error never contains the input.
func ParseMasterKey(encoded string) (MasterKey, error) {
	encoded = strings.TrimSpace(encoded)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(encoded); err == nil {
			if len(b) != MasterKeySize {
				return MasterKey{}, fmt.Errorf("master key: decoded %d bytes, want %d", len(b), MasterKeySize)
			}
			return MasterKey{Key: b}, nil
		}
	}
	return MasterKey{}, errors.New("master key: not valid base64")
}

// MasterKeyFromEnv reads a base64 master key from the environment variable
// name.
func MasterKeyFromEnv(name string) (MasterKey, error) {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return MasterKey{}, fmt.Errorf("master key: environment variable %s is not set", name)
	}
	k, err := ParseMasterKey(v)
	if err != nil {
		return MasterKey{}, fmt.Errorf("master key from %s: %w", name, err)
	}
	return k, nil
}

// MasterKeyFromFile reads a master key from a file holding either the base64
// text of the key or its 32 raw bytes.
func MasterKeyFromFile(path string) (MasterKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return MasterKey{}, fmt.Errorf("master key: %w", err)
	}
	if len(b) == MasterKeySize {
		return MasterKey{Key: b}, nil
	}
	k, err := ParseMasterKey(string(b))
	if err != nil {
		return MasterKey{}, fmt.Errorf("master key from %s: %w", path, err)
	}
	return k, nil
}

// GenerateMasterKey returns a new random master key, base64 encoded, for
// `accord keys generate` and tests.
func GenerateMasterKey() (string, error) {
	b := make([]byte, MasterKeySize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating master key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// LocalKMS wraps data keys with a master key held in process memory. It
// holds one current key (used to wrap) and any number of retired keys (used
// only to unwrap) so that data keys wrapped before a rotation still open
// while it runs.
type LocalKMS struct {
	currentID string
	aeads     map[string]cipher.AEAD
}

var _ KMS = (*LocalKMS)(nil)

// NewLocalKMS builds a LocalKMS that wraps with current and can also unwrap
// with retired.
func NewLocalKMS(current MasterKey, retired ...MasterKey) (*LocalKMS, error) {
	k := &LocalKMS{aeads: make(map[string]cipher.AEAD, 1+len(retired))}
	for i, mk := range append([]MasterKey{current}, retired...) {
		if len(mk.Key) != MasterKeySize {
			return nil, fmt.Errorf("local kms: master key %d is %d bytes, want %d", i, len(mk.Key), MasterKeySize)
		}
		id := mk.ID
		if id == "" {
			id = deriveKeyID(mk.Key)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("local kms: duplicate master key id %q", id)
		}
		aead, err := newGCM(mk.Key)
		if err != nil {
			return nil, fmt.Errorf("local kms: %w", err)
		}
		k.aeads[id] = aead
		if i == 0 {
			k.currentID = id
		}
	}
	return k, nil
}

// CurrentKeyID is the id of the master key Wrap uses.
func (k *LocalKMS) CurrentKeyID() string { return k.currentID }

// Wrap implements KMS.
func (k *LocalKMS) Wrap(_ context.Context, dataKey []byte) ([]byte, string, error) {
	aead := k.aeads[k.currentID]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(dataKey)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("local kms: nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, dataKey, wrapAAD(k.currentID)), k.currentID, nil
}

// Unwrap implements KMS.
func (k *LocalKMS) Unwrap(_ context.Context, wrapped []byte, keyID string) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("local kms: %w: %q", ErrUnknownKey, keyID)
	}
	if len(wrapped) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("local kms: %w", ErrDecrypt)
	}
	ns := aead.NonceSize()
	dk, err := aead.Open(nil, wrapped[:ns], wrapped[ns:], wrapAAD(keyID))
	if err != nil {
		return nil, fmt.Errorf("local kms: %w", ErrDecrypt)
	}
	return dk, nil
}

// wrapAAD binds a wrapped key to the id it is stored under, so relabelling
// a wrapped key fails instead of silently decrypting.
func wrapAAD(keyID string) []byte { return []byte("accord/datakey/v1/" + keyID) }

func deriveKeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("accord master key id"))
	return "local-" + hex.EncodeToString(m.Sum(nil)[:8])
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
