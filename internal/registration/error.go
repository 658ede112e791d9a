package registration

import (
	"errors"
	"fmt"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
)

// Error is a registration or deregistration the partner (or the way to
// it) refused: what was tried, and what an admin does about it.
type Error struct {
	Provider     string
	ConnectionID string
	// Step is what failed, e.g. "creating the subscription".
	Step string
	// URL is the hook URL the subscription points at.
	URL string
	// Retryable is true when the same call may work later unchanged.
	Retryable bool
	Err       error
}

func (e *Error) Error() string {
	return fmt.Sprintf("webhook registration of %s connection %s: %s: %v; %s", e.Provider, e.ConnectionID, e.Step, e.Err, e.Remedy())
}

func (e *Error) Unwrap() error { return e.Err }

// Remedy says what to do, in plain language.
func (e *Error) Remedy() string {
	var pe *connector.PartnerError
	if !errors.As(e.Err, &pe) {
		return "try again; if it keeps failing, check the provider manifest's webhooks.registration"
	}
	switch {
	case pe.Policy:
		return "Accord's outbound address policy refused the call: " + pe.Message
	case pe.Class == spec.ClassAuth:
		return fmt.Sprintf("%s refused the connection's credentials: reconnect it (or give it a valid API key), then try again", e.Provider)
	case pe.Class == spec.ClassPermission:
		return fmt.Sprintf("the connection may not manage webhooks at %s: grant it that permission (scope), then try again", e.Provider)
	case pe.Retryable():
		return fmt.Sprintf("%s is unavailable or rate limiting: try again in a moment", e.Provider)
	default:
		return fmt.Sprintf("%s refused the request: check webhooks.registration in its manifest, and that %s is a URL the partner accepts and reaches (set public_url)", e.Provider, e.URL)
	}
}

func (r *Registrar) fail(p *spec.Provider, connID, step, url string, err error) error {
	return &Error{Provider: p.Name, ConnectionID: connID, Step: step, URL: url, Retryable: connector.IsRetryable(err), Err: err}
}

// Temporary reports whether the same call may work later unchanged
// (the uninstall job retries it; other failures it records and passes).
func (e *Error) Temporary() bool { return e.Retryable }
