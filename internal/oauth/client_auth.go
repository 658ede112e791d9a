package oauth

import (
	"errors"
	"net/http"

	"golang.org/x/oauth2"
)

// withClientAuth runs a token-endpoint call with the provider's client
// authentication. For ClientSecretAuto it tries the secret in a basic
// header, then, when the endpoint refuses that (400 or 401), in the form
// body, and remembers per provider what was accepted so later calls send
// one request. (x/oauth2's own auto-detection caches per oauth2.Config,
// which is rebuilt for every call here.)
func (m *Manager) withClientAuth(p *ProviderConfig, call func(oauth2.AuthStyle) error) error {
	if p.ClientAuth != ClientSecretAuto {
		return call(p.authStyle())
	}
	if v, ok := m.clientAuth.Load(p.Name); ok {
		return call(v.(oauth2.AuthStyle))
	}
	err := call(oauth2.AuthStyleInHeader)
	if err == nil {
		m.clientAuth.Store(p.Name, oauth2.AuthStyleInHeader)
		return nil
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil || !clientAuthRefused(re.Response.StatusCode) {
		return err
	}
	if perr := call(oauth2.AuthStyleInParams); perr != nil {
		// Neither worked: the first answer is the one about the secret
		// as most providers expect it.
		return err
	}
	m.clientAuth.Store(p.Name, oauth2.AuthStyleInParams)
	return nil
}

// revokeStyles lists the client authentications to try at the revocation
// endpoint, in order.
func (m *Manager) revokeStyles(p *ProviderConfig) []oauth2.AuthStyle {
	if p.ClientAuth != ClientSecretAuto {
		return []oauth2.AuthStyle{p.authStyle()}
	}
	if v, ok := m.clientAuth.Load(p.Name); ok {
		return []oauth2.AuthStyle{v.(oauth2.AuthStyle)}
	}
	return []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams}
}

// clientAuthRefused reports whether a token endpoint's status may mean "not
// this way of sending the client secret" (RFC 6749 §5.2: invalid_client is
// 401, or 400 from some providers).
func clientAuthRefused(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusUnauthorized
}
