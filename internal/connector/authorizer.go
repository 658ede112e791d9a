package connector

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

// Authorizer adds a connection's credentials to a request.
//
// Authorize is called once per attempt, just before the request is sent,
// with the request fully built (URL, headers, body). It may set headers or
// query parameters. An error aborts the call and is returned wrapped; it
// must not contain the secret. An error matching ErrNeedsReconnect says the
// connection cannot be used until reconnected (callers pause its writes);
// one matching ErrAuthUnavailable says no credential could be had for a
// reason that is not the tenant's (callers retry with backoff, never
// pause). The same holds for a Refresher's Refresh error.
type Authorizer interface {
	Authorize(ctx context.Context, req *http.Request) error
}

// Refresher is an optional capability of an Authorizer whose credential can
// be renewed (an OAuth access token). When the partner answers 401, the
// connector calls Refresh once and sends the request again with a fresh
// Authorize. A Refresh error (token revoked, refresh token expired) ends the
// call with the auth *PartnerError, the Refresh error wrapped in it so the
// engine can tell "reconnect needed" from a plain 401.
type Refresher interface {
	Refresh(ctx context.Context) error
}

var (
	_ Authorizer = APIKey{}
	_ Authorizer = Bearer{}
	_ Authorizer = Basic{}
)

// APIKey sends a key in a header (default Authorization) or, when
// QueryParam is set, in a query parameter. Prefix is written before the key
// ("Token ", "Bearer ").
type APIKey struct {
	Header     string
	QueryParam string
	Prefix     string
	Key        string
}

// Authorize implements Authorizer.
func (a APIKey) Authorize(_ context.Context, req *http.Request) error {
	if a.QueryParam != "" {
		q := req.URL.Query()
		q.Set(a.QueryParam, a.Prefix+a.Key)
		req.URL.RawQuery = q.Encode()
		return nil
	}
	h := a.Header
	if h == "" {
		h = "Authorization"
	}
	req.Header.Set(h, a.Prefix+a.Key)
	return nil
}

// String keeps the key out of fmt and logs.
func (a APIKey) String() string {
	return "APIKey{Header:" + a.Header + " QueryParam:" + a.QueryParam + " Key:[redacted]}"
}

// GoString keeps the key out of %#v.
func (a APIKey) GoString() string { return a.String() }

// Bearer sends "Authorization: Bearer <Token>".
type Bearer struct {
	Token string
}

// Authorize implements Authorizer.
func (b Bearer) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+b.Token)
	return nil
}

// String keeps the token out of fmt and logs.
func (b Bearer) String() string { return "Bearer{Token:[redacted]}" }

// GoString keeps the token out of %#v.
func (b Bearer) GoString() string { return b.String() }

// Basic sends HTTP basic authentication.
type Basic struct {
	Username string
	Password string
}

// Authorize implements Authorizer.
func (b Basic) Authorize(_ context.Context, req *http.Request) error {
	req.SetBasicAuth(b.Username, b.Password)
	return nil
}

// String keeps the password out of fmt and logs.
func (b Basic) String() string { return "Basic{Username:" + b.Username + " Password:[redacted]}" }

// GoString keeps the password out of %#v.
func (b Basic) GoString() string { return b.String() }

// AuthorizerFor builds the Authorizer for a static secret from the
// manifest's auth settings:
//   - api_key: APIKey with the manifest's header, query_param and prefix;
//   - basic: the secret is "username:password" (a secret without a colon is
//     the username with an empty password, the API-key-as-user style);
//   - bearer, and the OAuth kinds given an access token: Bearer.
func AuthorizerFor(p *spec.Provider, secret string) Authorizer {
	switch p.Auth.Kind {
	case spec.AuthAPIKey:
		return APIKey{Header: p.Auth.Header, QueryParam: p.Auth.QueryParam, Prefix: p.Auth.Prefix, Key: secret}
	case spec.AuthBasic:
		user, pass, _ := strings.Cut(secret, ":")
		return Basic{Username: user, Password: pass}
	default:
		return Bearer{Token: secret}
	}
}

// credentialSnapshot remembers a request's headers and query before
// Authorize, so that whatever Authorize adds can be told apart and scrubbed
// from partner messages, whoever implemented the Authorizer.
type credentialSnapshot struct {
	header http.Header
	query  string
}

func snapshot(req *http.Request) credentialSnapshot {
	return credentialSnapshot{header: req.Header.Clone(), query: req.URL.RawQuery}
}

// added returns the credential strings Authorize put on req: new header
// values (and the part after an auth scheme, and a basic password) and new
// query values.
func (s credentialSnapshot) added(req *http.Request) []string {
	var out []string
	for k, vs := range req.Header {
		for _, v := range vs {
			if slices.Contains(s.header[k], v) || v == "" {
				continue
			}
			out = append(out, v)
			scheme, rest, ok := strings.Cut(v, " ")
			if !ok {
				continue
			}
			rest = strings.TrimSpace(rest)
			out = append(out, rest)
			if strings.EqualFold(scheme, "basic") {
				if dec, err := base64.StdEncoding.DecodeString(rest); err == nil {
					out = append(out, string(dec))
					if _, pass, ok := strings.Cut(string(dec), ":"); ok {
						out = append(out, pass)
					}
				}
			}
		}
	}
	if req.URL.RawQuery != s.query {
		before, _ := url.ParseQuery(s.query)
		for k, vs := range req.URL.Query() {
			for _, v := range vs {
				if !slices.Contains(before[k], v) && v != "" {
					out = append(out, v)
				}
			}
		}
	}
	// Longest first, so a full "Bearer x" is replaced before its "x".
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	// One or two characters are no secret worth guarding and would shred
	// every message they occur in.
	return slices.DeleteFunc(out, func(s string) bool { return len(s) < 3 })
}
