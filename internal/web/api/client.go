package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Client calls the admin API as an operator would. The CLI's demo, the
// load test and the end-to-end tests set tenants up through it, so they
// exercise the same wire format the server's handlers read.
type Client struct {
	// BaseURL is Accord's root URL, e.g. http://127.0.0.1:8080; the client
	// adds /api/v1/….
	BaseURL string
	// Token is the operator token, sent as Authorization: Bearer. It never
	// appears in an error.
	Token string
	// HTTP sends the requests. Default: http.DefaultClient.
	HTTP *http.Client
}

// maxResponseBytes bounds an answer the client reads: a thousand record
// errors fit with room to spare, a runaway body does not exhaust memory.
const maxResponseBytes = 8 << 20

// ClientError is an answer other than the one the call expects, built from
// the API's {"error","detail"} body.
type ClientError struct {
	Status  int
	Message string
	// RequestID is the server's id for the request, to find it in the logs.
	RequestID string
}

func (e *ClientError) Error() string {
	if e.RequestID != "" {
		return fmt.Sprintf("admin API answered %d: %s (request %s)", e.Status, e.Message, e.RequestID)
	}
	return fmt.Sprintf("admin API answered %d: %s", e.Status, e.Message)
}

// CreateTenant creates tenant id. A tenant that exists already is a
// ClientError with status 409.
func (c *Client) CreateTenant(ctx context.Context, id, name string) (Tenant, error) {
	var out Tenant
	err := c.do(ctx, http.MethodPost, "/api/v1/tenants", tenantInput{ID: id, Name: name}, http.StatusCreated, &out)
	return out, err
}

// CreateConnection stores an API-key, bearer or basic-auth connection.
func (c *Client) CreateConnection(ctx context.Context, tenant string, in ConnectionInput) (Connection, error) {
	var out Connection
	err := c.do(ctx, http.MethodPost, tenantPath(tenant, "connections"), in, http.StatusCreated, &out)
	return out, err
}

// ListConnections returns the tenant's connections.
func (c *Client) ListConnections(ctx context.Context, tenant string) ([]Connection, error) {
	var out struct {
		Connections []Connection `json:"connections"`
	}
	err := c.do(ctx, http.MethodGet, tenantPath(tenant, "connections"), nil, http.StatusOK, &out)
	return out.Connections, err
}

// GetConnection returns one connection, with its current state.
func (c *Client) GetConnection(ctx context.Context, tenant, id string) (Connection, error) {
	var out Connection
	err := c.do(ctx, http.MethodGet, tenantPath(tenant, "connections", id), nil, http.StatusOK, &out)
	return out, err
}

// SetConnectionSettings changes the named connection settings ("" clears
// an optional one) and returns the connection.
func (c *Client) SetConnectionSettings(ctx context.Context, tenant, id string, settings map[string]string) (Connection, error) {
	var out Connection
	err := c.do(ctx, http.MethodPatch, tenantPath(tenant, "connections", id, "settings"), connectionSettingsInput{Settings: settings},
		http.StatusOK, &out)
	return out, err
}

// CreateInstallation installs contract for tenant; connections maps each
// provider the contract uses to one of the tenant's connection ids.
func (c *Client) CreateInstallation(ctx context.Context, tenant, contract string, connections map[string]string) (Installation, error) {
	var out Installation
	in := InstallationInput{Contract: contract, Connections: connections}
	err := c.do(ctx, http.MethodPost, tenantPath(tenant, "installations"), in, http.StatusCreated, &out)
	return out, err
}

// CreateInstallationWith installs in.Contract for tenant with everything
// InstallationInput carries (overrides, consent).
func (c *Client) CreateInstallationWith(ctx context.Context, tenant string, in InstallationInput) (Installation, error) {
	var out Installation
	err := c.do(ctx, http.MethodPost, tenantPath(tenant, "installations"), in, http.StatusCreated, &out)
	return out, err
}

// PauseInstallation pauses an installation: its events wait until resumed.
func (c *Client) PauseInstallation(ctx context.Context, tenant, id string) (Installation, error) {
	var out Installation
	err := c.do(ctx, http.MethodPost, tenantPath(tenant, "installations", id, "pause"), nil, http.StatusOK, &out)
	return out, err
}

// GetInstallation returns one installation.
func (c *Client) GetInstallation(ctx context.Context, tenant, id string) (Installation, error) {
	var out Installation
	err := c.do(ctx, http.MethodGet, tenantPath(tenant, "installations", id), nil, http.StatusOK, &out)
	return out, err
}

// UpgradeInstallation moves an installation to version of its contract;
// an empty version is the newest loaded one.
func (c *Client) UpgradeInstallation(ctx context.Context, tenant, id, version string) (Installation, error) {
	var out Installation
	err := c.do(ctx, http.MethodPost, tenantPath(tenant, "installations", id, "upgrade"), upgradeInput{Version: version}, http.StatusOK, &out)
	return out, err
}

// GetOverrides returns an installation's overrides and what its contract
// lets it override.
func (c *Client) GetOverrides(ctx context.Context, tenant, id string) (Overrides, error) {
	var out Overrides
	err := c.do(ctx, http.MethodGet, tenantPath(tenant, "installations", id, "overrides"), nil, http.StatusOK, &out)
	return out, err
}

// SetOverrides replaces an installation's overrides.
func (c *Client) SetOverrides(ctx context.Context, tenant, id string, in OverridesInput) (Overrides, error) {
	var out Overrides
	err := c.do(ctx, http.MethodPut, tenantPath(tenant, "installations", id, "overrides"), in, http.StatusOK, &out)
	return out, err
}

// ResumeInstallation resumes a paused installation.
func (c *Client) ResumeInstallation(ctx context.Context, tenant, id string) (Installation, error) {
	var out Installation
	err := c.do(ctx, http.MethodPost, tenantPath(tenant, "installations", id, "resume"), nil, http.StatusOK, &out)
	return out, err
}

// ListRecordErrors returns the tenant's record errors; a non-empty status
// (open, retrying, resolved) keeps only those.
func (c *Client) ListRecordErrors(ctx context.Context, tenant, status string) ([]RecordError, error) {
	path := tenantPath(tenant, "record-errors")
	if status != "" {
		path += "?" + url.Values{"status": {status}}.Encode()
	}
	var out struct {
		RecordErrors []RecordError `json:"record_errors"`
	}
	err := c.do(ctx, http.MethodGet, path, nil, http.StatusOK, &out)
	return out.RecordErrors, err
}

// GetRecordError returns one record error.
func (c *Client) GetRecordError(ctx context.Context, tenant, id string) (RecordError, error) {
	var out RecordError
	err := c.do(ctx, http.MethodGet, tenantPath(tenant, "record-errors", id), nil, http.StatusOK, &out)
	return out, err
}

// RetryRecordError queues the failed record again and returns it in state
// retrying. A resolved record error is a ClientError with status 409.
func (c *Client) RetryRecordError(ctx context.Context, tenant, id string) (RecordError, error) {
	var out RecordError
	err := c.do(ctx, http.MethodPost, tenantPath(tenant, "record-errors", id, "retry"), nil, http.StatusAccepted, &out)
	return out, err
}

// InstallContract does an operator's setup of a contract for an existing
// tenant: one connection per provider in conns (keyed by provider, the
// slot the contract fills), then the installation using them. It returns
// the installation and the connections by provider. Connections are
// created in provider order so a failure is reproducible; on error the
// ones already created stay, as they would after an operator's failed
// attempt.
func (c *Client) InstallContract(ctx context.Context, tenant, contract string, conns map[string]ConnectionInput) (Installation, map[string]Connection, error) {
	byProvider := make(map[string]Connection, len(conns))
	ids := make(map[string]string, len(conns))
	for _, provider := range slices.Sorted(maps.Keys(conns)) {
		in := conns[provider]
		if in.Provider == "" {
			in.Provider = provider
		}
		if in.Provider != provider {
			return Installation{}, byProvider, fmt.Errorf("installing %s: connection for %s names provider %s", contract, provider, in.Provider)
		}
		conn, err := c.CreateConnection(ctx, tenant, in)
		if err != nil {
			return Installation{}, byProvider, fmt.Errorf("installing %s: %s connection: %w", contract, provider, err)
		}
		byProvider[provider], ids[provider] = conn, conn.ID
	}
	inst, err := c.CreateInstallation(ctx, tenant, contract, ids)
	if err != nil {
		return Installation{}, byProvider, fmt.Errorf("installing %s: %w", contract, err)
	}
	return inst, byProvider, nil
}

// tenantPath is /api/v1/tenants/{tenant}/… with each segment escaped.
func tenantPath(tenant string, rest ...string) string {
	var b strings.Builder
	b.WriteString("/api/v1/tenants/")
	b.WriteString(url.PathEscape(tenant))
	for _, s := range rest {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do sends in as JSON (nil: no body), requires status want and decodes the
// answer into out. Errors name the method and path, never the token.
func (c *Client) do(ctx context.Context, method, path string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encoding request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading answer: %w", method, path, err)
	}
	if len(raw) > maxResponseBytes {
		return fmt.Errorf("%s %s: answer exceeds %d bytes", method, path, maxResponseBytes)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %w", method, path, c.clientError(resp.StatusCode, raw))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decoding answer: %w", method, path, err)
	}
	return nil
}

// clientError reads the API's error body. Anything else (a proxy's page)
// is reduced to the status text rather than quoted: it could echo the
// request, token included.
func (c *Client) clientError(status int, raw []byte) *ClientError {
	ce := &ClientError{Status: status, Message: http.StatusText(status)}
	var body errorBody
	if json.Unmarshal(raw, &body) != nil || body.Error == "" {
		return ce
	}
	ce.Message, ce.RequestID = body.Error, body.RequestID
	if body.Detail != "" {
		ce.Message += ": " + body.Detail
	}
	if c.Token != "" {
		ce.Message = strings.ReplaceAll(ce.Message, c.Token, "[redacted]")
	}
	return ce
}
