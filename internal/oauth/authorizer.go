package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
)

// Authorize sets the connection's credentials on an outgoing request, as
// the provider's auth kind says: a bearer token for the OAuth kinds, the
// API key in its header or query parameter, or basic auth. It applies them
// through the connector's static authorizers (the one implementation of
// each scheme), so a key and its prefix are sent the same way whoever asks.
func (p *ProviderConfig) Authorize(req *http.Request, sec credential.Secret) error {
	a, err := p.staticAuthorizer(sec)
	if err != nil {
		return err
	}
	return a.Authorize(context.Background(), req)
}

// staticAuthorizer is the connector authorizer for the secret as it is now.
func (p *ProviderConfig) staticAuthorizer(sec credential.Secret) (connector.Authorizer, error) {
	switch p.AuthKind {
	case AuthCode, ClientCredentials, JWTBearer:
		if sec.AccessToken == "" {
			return nil, errors.New("oauth: connection has no access token")
		}
		typ := sec.TokenType
		if typ == "" || equalFoldASCII(typ, "bearer") {
			return connector.Bearer{Token: sec.AccessToken}, nil
		}
		// A non-bearer token type (e.g. "MAC"-style schemes some providers
		// name) is sent as the provider said.
		return connector.APIKey{Header: "Authorization", Prefix: typ + " ", Key: sec.AccessToken}, nil
	case APIKey:
		if sec.APIKey == "" {
			return nil, errors.New("oauth: connection has no API key")
		}
		return connector.APIKey{Header: p.APIKeyHeader, QueryParam: p.APIKeyQuery, Prefix: p.APIKeyPrefix, Key: sec.APIKey}, nil
	case Basic:
		return connector.Basic{Username: sec.Username, Password: sec.Password}, nil
	default:
		return nil, fmt.Errorf("oauth: unknown auth kind %q", p.AuthKind)
	}
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
