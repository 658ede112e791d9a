package api

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/accordhq/accord/internal/registration"
	"github.com/accordhq/accord/internal/spec"
)

// WebhookRegistrar subscribes a connection to its partner's webhooks
// (package registration). Register is idempotent; its errors are
// *registration.Error when the partner or the way to it failed.
type WebhookRegistrar interface {
	Register(ctx context.Context, tenantID, connectionID string, events []string, actor string) (registration.Result, error)
}

var _ WebhookRegistrar = (*registration.Registrar)(nil)

// registerWebhooks registers the webhooks c triggers on, for each of its
// providers that declares webhooks.registration.
func (a *API) registerWebhooks(ctx context.Context, tenant string, c *spec.Contract, conns map[string]string, actor string) ([]registration.Result, error) {
	if a.deps.Webhooks == nil {
		return nil, nil
	}
	var out []registration.Result
	for _, provider := range slices.Sorted(maps.Keys(conns)) {
		if !slices.Contains(c.Providers, provider) || !registration.Declared(a.deps.Providers[provider]) {
			continue
		}
		events := registration.Events(c, provider)
		if len(events) == 0 {
			continue // the contract only writes to this partner
		}
		res, err := a.deps.Webhooks.Register(ctx, tenant, conns[provider], events, actor)
		var re *registration.Error
		if errors.As(err, &re) {
			status := http.StatusBadGateway
			if re.Retryable {
				status = http.StatusServiceUnavailable
			}
			return nil, &Error{Status: status, Msg: "the installation was not created: " + re.Error() +
				" (installing again is safe: a subscription is never made twice)"}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}
