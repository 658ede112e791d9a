package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/accordhq/accord/internal/review"
)

// Catalog lists the contracts a tenant may install (GET /api/v1/catalog).
func (c *Client) Catalog(ctx context.Context) ([]review.Contract, error) {
	var out struct {
		Contracts []review.Contract `json:"contracts"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/catalog", nil, http.StatusOK, &out)
	return out.Contracts, err
}

// Uninstall starts uninstalling an installation and returns its progress.
func (c *Client) Uninstall(ctx context.Context, tenant, id string) (Uninstall, error) {
	var out Uninstall
	err := c.do(ctx, http.MethodPost, "/api/v1/tenants/"+url.PathEscape(tenant)+"/installations/"+url.PathEscape(id)+"/uninstall", nil, http.StatusAccepted, &out)
	return out, err
}

// GetUninstall returns an uninstall's progress.
func (c *Client) GetUninstall(ctx context.Context, tenant, id string) (Uninstall, error) {
	var out Uninstall
	err := c.do(ctx, http.MethodGet, "/api/v1/tenants/"+url.PathEscape(tenant)+"/installations/"+url.PathEscape(id)+"/uninstall", nil, http.StatusOK, &out)
	return out, err
}

// CreateNotificationEndpoint registers a change-notification endpoint;
// the answer carries its secret, this once. types empty: every type.
func (c *Client) CreateNotificationEndpoint(ctx context.Context, tenant, endpointURL string, types []string) (NotifyEndpoint, error) {
	var out NotifyEndpoint
	err := c.do(ctx, http.MethodPost, "/api/v1/tenants/"+url.PathEscape(tenant)+"/notification-endpoints",
		notifyEndpointInput{URL: endpointURL, EventTypes: types}, http.StatusCreated, &out)
	return out, err
}

// SubscribeHook subscribes a REST hook (POST /api/v1/hooks).
func (c *Client) SubscribeHook(ctx context.Context, tenant, targetURL, event string) (RESTHook, error) {
	var out RESTHook
	err := c.do(ctx, http.MethodPost, "/api/v1/hooks", restHookInput{TenantID: tenant, TargetURL: targetURL, Event: event}, http.StatusCreated, &out)
	return out, err
}

// UnsubscribeHook removes a REST hook (DELETE /api/v1/hooks/{id}).
func (c *Client) UnsubscribeHook(ctx context.Context, tenant, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/hooks/"+url.PathEscape(id)+"?tenant_id="+url.QueryEscape(tenant), nil, http.StatusNoContent, nil)
}
