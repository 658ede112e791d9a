package connector

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

// SettingsCarrier is an optional capability of an Authorizer: the
// connection's non-secret settings (spec.Provider.Settings), which fill
// {connection.NAME} in the manifest's base_url and headers. The connection
// is what the Authorizer already stands for, so the settings travel with
// it rather than through every caller.
type SettingsCarrier interface {
	ConnectionSettings() map[string]string
}

// WithSettings returns an Authorizer that authorises like a (which may be
// nil: a provider without auth) and carries the connection's settings. A
// Refresher stays a Refresher.
func WithSettings(a Authorizer, settings map[string]string) Authorizer {
	base := settingsAuth{inner: a, settings: settings}
	if r, ok := a.(Refresher); ok {
		return settingsRefresher{settingsAuth: base, refresher: r}
	}
	return base
}

type settingsAuth struct {
	inner    Authorizer
	settings map[string]string
}

var (
	_ SettingsCarrier = settingsAuth{}
	_ Refresher       = settingsRefresher{}
)

func (s settingsAuth) Authorize(ctx context.Context, req *http.Request) error {
	if s.inner == nil {
		return nil
	}
	return s.inner.Authorize(ctx, req)
}

func (s settingsAuth) ConnectionSettings() map[string]string { return s.settings }

// String is the wrapped Authorizer's own (redacting) String: printed as a
// struct, the wrapper would show the credential's unexported fields raw.
func (s settingsAuth) String() string { return fmt.Sprint(s.inner) }

// GoString keeps the credential out of %#v.
func (s settingsAuth) GoString() string { return s.String() }

type settingsRefresher struct {
	settingsAuth
	refresher Refresher
}

func (s settingsRefresher) Refresh(ctx context.Context) error { return s.refresher.Refresh(ctx) }

func settingsOf(a Authorizer) map[string]string {
	if sc, ok := a.(SettingsCarrier); ok {
		return sc.ConnectionSettings()
	}
	return nil
}

// unresolvedLabel stands for a {connection.NAME} host label in the base
// URL the connector parses once; every request replaces the host with the
// connection's own before it is sent (resolveHost), and ".invalid" never
// resolves should one ever slip through.
const unresolvedLabel = "connection-setting.invalid"

// hostTemplate splits a base URL whose host holds {connection.NAME}
// labels into the template of the host and a parseable URL.
func hostTemplate(base string) (tmpl, parseable string) {
	if !spec.UsesSettings(base) {
		return "", base
	}
	_, rest, _ := strings.Cut(base, "://")
	host, _, _ := strings.Cut(rest, "/")
	return host, strings.Replace(base, host, unresolvedLabel, 1)
}

// resolveHost returns the host of this connection's requests: the base
// URL's, or the template filled with the connection's settings. The spec
// checked that a placeholder is a whole label of a dns_label setting, and
// ExpandSettings checks the value is one DNS label again here, so a tenant
// can pick its subdomain of the partner's domain and nothing else; the
// dial guard applies to the result like to any host.
func (c *Connector) resolveHost(auth Authorizer) (string, error) {
	if c.hostTmpl == "" {
		return c.base.Host, nil
	}
	return c.provider.ExpandSettings(c.hostTmpl, settingsOf(auth))
}

// setHeaders adds the manifest's headers, the provider's then the
// endpoint's, with the connection's settings filled in.
func (c *Connector) setHeaders(req *http.Request, ep *spec.Endpoint, auth Authorizer) error {
	for _, hs := range []map[string]string{c.provider.Headers, ep.Headers} {
		for name, v := range hs {
			v, err := c.provider.ExpandSettings(v, settingsOf(auth))
			if err != nil {
				return fmt.Errorf("header %s: %w", name, err)
			}
			req.Header.Set(name, v)
		}
	}
	return nil
}

// settingError is the permanent error of a request the connection's
// settings cannot address: the tenant fixes the connection, retrying does
// not help.
func settingError(op string, err error) *PartnerError {
	return &PartnerError{Op: op, Class: spec.ClassValidation, Policy: true,
		Message: sanitize("the connection's settings: " + err.Error()), Err: err}
}
