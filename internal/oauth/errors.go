package oauth

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/store"
)

// ErrNeedsReconnect is matched (errors.Is) by every NeedsReconnectError. It
// is connector.ErrNeedsReconnect: part of the Authorizer contract, so the
// engine tells "pause" without importing this package.
var ErrNeedsReconnect = connector.ErrNeedsReconnect

// ErrUnknownProvider is returned for a provider name with no configuration.
var ErrUnknownProvider = errors.New("oauth: unknown provider")

// ErrInvalidSession is returned for a connect session token that is
// malformed, forged or expired.
var ErrInvalidSession = errors.New("oauth: invalid or expired connect session")

// NeedsReconnectError says a connection cannot be used until an admin
// reconnects it: its refresh failed for good, its token was revoked, or it
// lacks a required scope. The engine pauses the connection's writes on it
// (jobs wait; nothing is dropped) and shows Reason with a reconnect link.
type NeedsReconnectError struct {
	TenantID     string
	ConnectionID string
	Provider     string
	// State is needs_reconnect or missing_scopes (or disconnected).
	State store.ConnectionState
	// Reason is plain language for the admin; it never contains secrets.
	Reason string
}

func (e *NeedsReconnectError) Error() string {
	return fmt.Sprintf("connection %s (%s) is %s: %s", e.ConnectionID, e.Provider, e.State, e.Reason)
}

// Is makes errors.Is(err, ErrNeedsReconnect) true.
func (e *NeedsReconnectError) Is(target error) bool { return target == ErrNeedsReconnect }

func needsReconnect(c store.Connection) *NeedsReconnectError {
	reason := c.StateReason
	if reason == "" {
		reason = "Reconnect to resume."
	}
	return &NeedsReconnectError{TenantID: c.TenantID, ConnectionID: c.ID, Provider: c.Provider, State: c.State, Reason: reason}
}

// TokenError is a failed call to a provider's token endpoint. It carries the
// OAuth error code and the provider's error_description (secrets sent on
// the request redacted), never the raw response body (which may echo
// credentials).
type TokenError struct {
	Provider   string
	StatusCode int    // 0 when no response arrived
	Code       string // OAuth error code, e.g. "invalid_client"
	// Description is the provider's error_description: one line, bounded,
	// any secret sent on the request redacted.
	Description string
	// Location is where a 3xx answer pointed. The redirect is not followed:
	// re-posting the token request elsewhere would hand over the client
	// secret and the grant.
	Location string
	Err      error // transport error, if any
}

func (e *TokenError) Error() string {
	var msg string
	switch {
	case e.Location != "" || (e.StatusCode >= 300 && e.StatusCode < 400):
		msg = fmt.Sprintf("token endpoint of %s answered %d, a redirect to %q that is not followed: set the provider's token_url to the final address", e.Provider, e.StatusCode, e.Location)
	case e.Code != "":
		msg = fmt.Sprintf("token endpoint of %s answered %d %s", e.Provider, e.StatusCode, e.Code)
	case e.StatusCode != 0:
		msg = fmt.Sprintf("token endpoint of %s answered %d", e.Provider, e.StatusCode)
	default:
		return fmt.Sprintf("token endpoint of %s: %v", e.Provider, e.Err)
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// maxDescriptionLen bounds TokenError.Description, in characters.
const maxDescriptionLen = 300

// sanitizeDescription makes a provider's text safe to store, log and show:
// the secrets replaced, one line, no control characters, bounded.
func sanitizeDescription(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
	if r := []rune(s); len(r) > maxDescriptionLen {
		s = string(r[:maxDescriptionLen-1]) + "…"
	}
	return s
}

func (e *TokenError) Unwrap() error { return e.Err }

// revokesGrant reports whether the tenant's grant itself was refused
// (RFC 6749 invalid_grant: revoked, expired, or a reused rotated refresh
// token; invalid_scope: the grant no longer covers what is asked): only
// the tenant reconnecting fixes it.
func (e *TokenError) revokesGrant() bool {
	return e.Code == "invalid_grant" || e.Code == "invalid_scope"
}

// operatorSide reports whether the operator must act: Accord's own client
// was refused (wrong, expired or just-rotated client secret; a client not
// allowed the grant), or the endpoint failed or could not be reached.
// Tenants' grants are intact.
func (e *TokenError) operatorSide() bool {
	switch e.Code {
	case "invalid_client", "unauthorized_client", "unsupported_grant_type":
		return true
	}
	return e.StatusCode == 401 || e.StatusCode >= 500 || e.StatusCode == 0 ||
		(e.StatusCode >= 300 && e.StatusCode < 400)
}

// Is makes a failure that does not revoke the tenant's grant match
// connector.ErrAuthUnavailable: callers retry with backoff and never pause
// the connection for it.
func (e *TokenError) Is(target error) bool {
	return target == connector.ErrAuthUnavailable && !e.revokesGrant()
}

// reason is the plain-language StateReason for a permanent failure.
func (e *TokenError) reason(displayName string) string {
	switch e.Code {
	case "invalid_client", "unauthorized_client":
		return fmt.Sprintf("%s rejected Accord's client credentials. Check the provider configuration, then reconnect.", displayName)
	case "invalid_scope":
		return fmt.Sprintf("%s no longer grants the permissions Accord asked for. Reconnect and approve them.", displayName)
	default:
		return fmt.Sprintf("Access to %s was revoked or has expired. Reconnect to resume; writes are paused until then.", displayName)
	}
}
