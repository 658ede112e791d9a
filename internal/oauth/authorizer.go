package oauth

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/accordhq/accord/internal/credential"
)

// Authorize sets the connection's credentials on an outgoing request, as
// the provider's auth kind says: a bearer token for the OAuth kinds, the
// API key in its header or query parameter, or basic auth.
func (p *ProviderConfig) Authorize(req *http.Request, sec credential.Secret) error {
	switch p.AuthKind {
	case AuthCode, ClientCredentials, JWTBearer:
		if sec.AccessToken == "" {
			return errors.New("oauth: connection has no access token")
		}
		typ := sec.TokenType
		if typ == "" || equalFoldASCII(typ, "bearer") {
			typ = "Bearer"
		}
		req.Header.Set("Authorization", typ+" "+sec.AccessToken)
	case APIKey:
		if sec.APIKey == "" {
			return errors.New("oauth: connection has no API key")
		}
		if p.APIKeyQuery != "" {
			q := req.URL.Query()
			q.Set(p.APIKeyQuery, sec.APIKey)
			req.URL.RawQuery = q.Encode()
			return nil
		}
		h := p.APIKeyHeader
		if h == "" {
			h = "Authorization"
		}
		req.Header.Set(h, p.APIKeyPrefix+sec.APIKey)
	case Basic:
		req.SetBasicAuth(sec.Username, sec.Password)
	default:
		return fmt.Errorf("oauth: unknown auth kind %q", p.AuthKind)
	}
	return nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}
