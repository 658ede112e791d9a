package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadLink is returned for a link whose signature, form or expiry is
// wrong.
var ErrBadLink = errors.New("access: invalid or expired link")

// Signer signs and checks the values Accord hands to browsers (tenant
// links, session cookies) with HMAC-SHA256 under one key. Every process of
// a deployment derives the same key from the master key, so any of them
// accepts what another signed.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer; key must be at least 32 bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("access: signing key must be at least 32 bytes")
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// DeriveKey derives a purpose-specific key from a master secret.
func DeriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("accord/" + purpose))
	return m.Sum(nil)
}

// Mac returns the HMAC of the purpose and data.
func (s *Signer) Mac(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}

// Seal encodes v as JSON and signs it for purpose: "<payload>.<mac>",
// both base64url. The payload is readable, not secret.
func (s *Signer) Seal(purpose string, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sealing %s: %w", purpose, err)
	}
	return base64.RawURLEncoding.EncodeToString(raw) + "." + base64.RawURLEncoding.EncodeToString(s.Mac(purpose, raw)), nil
}

// Open checks a value Seal made for the same purpose and decodes it into v.
func (s *Signer) Open(purpose, sealed string, v any) error {
	p, m, ok := strings.Cut(sealed, ".")
	if !ok {
		return ErrBadLink
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.Mac(purpose, raw)) {
		return ErrBadLink
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return ErrBadLink
	}
	return nil
}

// Link is the signed content of a tenant link: the stored link it consumes
// and its expiry (checked before the store is asked).
type Link struct {
	TenantID  string `json:"t"`
	ID        string `json:"i"`
	ExpiresAt int64  `json:"e"` // Unix seconds
}

const linkPurpose = "tenant-link"

// SignLink returns the token for l, to put in /ui/link?t={token}.
func (s *Signer) SignLink(l Link) (string, error) { return s.Seal(linkPurpose, l) }

// OpenLink checks a link token's signature and expiry at now.
func (s *Signer) OpenLink(token string, now time.Time) (Link, error) {
	var l Link
	if err := s.Open(linkPurpose, token, &l); err != nil {
		return Link{}, err
	}
	if l.TenantID == "" || l.ID == "" || !now.Before(time.Unix(l.ExpiresAt, 0)) {
		return Link{}, ErrBadLink
	}
	return l, nil
}
