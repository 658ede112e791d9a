package oauth

import (
	"fmt"
	"net/http"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
)

// newTesters builds, for each provider with a TestURL, the connector that
// makes its "test connection" call. It is the engine's connector in
// everything that matters (address policy, redirects, credentials applied
// once, refresh on 401, error classes), pointed at the test URL: a test
// that passes where a write would be refused would be a lie.
func newTesters(providers map[string]*ProviderConfig, cfg Config) (map[string]*connector.Connector, error) {
	out := make(map[string]*connector.Connector, len(providers))
	for name, p := range providers {
		if p.TestURL == "" {
			continue
		}
		sp := &spec.Provider{
			Name:    p.Name,
			BaseURL: p.TestURL,
			Auth:    spec.Auth{Test: &spec.Endpoint{Method: http.MethodGet}},
		}
		if mf := p.Manifest; mf != nil {
			// Classify the partner's answer and pin the API version as the
			// engine's calls do.
			sp.Errors, sp.APIVersion = mf.Errors, mf.APIVersion
			if mf.Auth.Test != nil && mf.Auth.Test.Method != "" {
				sp.Auth.Test.Method = mf.Auth.Test.Method
			}
		}
		cc := *cfg.Outbound
		cc.Logger, cc.Registerer, cc.Now = cfg.Logger, cfg.Registerer, cfg.Now
		// TestURL is already expanded; a literal "${" must stay as it is.
		cc.LookupEnv = func(string) (string, bool) { return "", false }
		tc, err := connector.New(sp, &cc)
		if err != nil {
			return nil, fmt.Errorf("oauth: provider %s: test_url: %w", name, err)
		}
		out[name] = tc
	}
	return out, nil
}
