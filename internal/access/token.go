package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// TokenPrefix starts every API token, so a leaked one is easy to spot
// (secret scanners, logs).
const TokenPrefix = "acc_"

// ErrUnauthenticated is returned for a token that is unknown, revoked or
// expired. Its message says which, never the token.
var ErrUnauthenticated = errors.New("access: not authenticated")

// NewToken returns a fresh random token and the hash to store for it.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token)
}

// Hash is the SHA-256 of token, what the store keeps.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewID returns a random identifier with prefix ("tok_", "lnk_").
func NewID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Authenticator turns a presented token into a Principal.
type Authenticator struct {
	// Store holds the API tokens.
	Store store.Queries
	// AdminToken is the deployment's configured admin token (admin_token);
	// empty: only stored tokens authenticate.
	AdminToken string
	// Now is the clock for expiry; default time.Now.
	Now func() time.Time
}

// Authenticate checks token. An unknown, revoked or expired token is an
// error wrapping ErrUnauthenticated; a store failure is returned as is.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, fmt.Errorf("%w: no token", ErrUnauthenticated)
	}
	if a.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.AdminToken)) == 1 {
		return Principal{Role: store.RoleAdmin, Actor: "admin_token"}, nil
	}
	if !strings.HasPrefix(token, TokenPrefix) {
		return Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	// The lookup is by hash: a timing difference says nothing about the
	// token itself.
	t, err := a.Store.GetAPITokenByHash(ctx, Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("looking up token: %w", err)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	switch {
	case !t.RevokedAt.IsZero():
		return Principal{}, fmt.Errorf("%w: token %s was revoked", ErrUnauthenticated, t.ID)
	case !t.ExpiresAt.IsZero() && !now().Before(t.ExpiresAt):
		return Principal{}, fmt.Errorf("%w: token %s expired", ErrUnauthenticated, t.ID)
	}
	return Principal{Role: t.Role, TenantID: t.TenantID, Actor: "token:" + t.ID, TokenID: t.ID}, nil
}
