package oauth

import "net/http"

// Handler serves the connect flow: GET /connect/start and GET
// /connect/callback. Mount it at /connect/.
func (m *Manager) Handler() http.Handler { return m.handler }

func (m *Manager) newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /connect/start", m.connectStart)
	mux.HandleFunc("GET /connect/callback", m.connectCallback)
	return mux
}

// pendingAuth is sealed into the OAuth state row: the PKCE verifier must
// not sit in the database in the clear while the user is at the provider.
type pendingAuth struct {
	Verifier           string `json:"v,omitempty"`
	ReturnURL          string `json:"r,omitempty"`
	AllowAccountChange bool   `json:"a,omitempty"`
	// Settings of the connection the sign-in creates.
	Settings map[string]string `json:"s,omitempty"`
}
