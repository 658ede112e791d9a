package api

import (
	"context"
	"net/http"
	"net/url"
)

// CreateToken creates an API token; the answer's Secret is the token,
// shown this once.
func (c *Client) CreateToken(ctx context.Context, in TokenInput) (Token, error) {
	var out Token
	err := c.do(ctx, http.MethodPost, "/api/v1/tokens", in, http.StatusCreated, &out)
	return out, err
}

// ListTokens lists every API token, revoked ones included (never their
// secrets).
func (c *Client) ListTokens(ctx context.Context) ([]Token, error) {
	var out struct {
		Tokens []Token `json:"tokens"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/tokens", nil, http.StatusOK, &out)
	return out.Tokens, err
}

// RevokeToken revokes the token with that id.
func (c *Client) RevokeToken(ctx context.Context, id string) (Token, error) {
	var out Token
	err := c.do(ctx, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(id), nil, http.StatusOK, &out)
	return out, err
}

// CreateUILink makes a single-use link into tenant's pages, valid for ttl
// ("" takes the default, 5 minutes).
func (c *Client) CreateUILink(ctx context.Context, tenant, ttl string) (UILink, error) {
	var out UILink
	err := c.do(ctx, http.MethodPost, tenantPath(tenant, "ui-links"), uiLinkInput{TTL: ttl}, http.StatusCreated, &out)
	return out, err
}
