package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
	"github.com/accordhq/accord/internal/web/api"
)

const clToken = "client-test-operator-token"

// recordingQueue stands in for River: the retry test checks what the API
// queued, not that River runs it.
type recordingQueue struct {
	mu    sync.Mutex
	kinds []string
}

func (q *recordingQueue) InsertTx(_ context.Context, _ store.Tx, args river.JobArgs, _ *river.InsertOpts) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.kinds = append(q.kinds, args.Kind())
	return int64(len(q.kinds)), nil
}

type clientBundle struct {
	st     store.Store
	queue  *recordingQueue
	client *api.Client
	url    string
}

// setupClient serves the admin API over SQLite with two API-key providers
// and a contract using both, and a Client holding the operator token that
// has created tenant "acme".
func setupClient(t *testing.T) *clientBundle { return setupClientWith(t, nil) }

// setupClientWith is setupClient with the API's Deps adjusted by edit.
func setupClientWith(t *testing.T, edit func(d *api.Deps)) *clientBundle {
	t.Helper()
	b := &clientBundle{st: sqlite.OpenTest(t), queue: &recordingQueue{}}
	mk, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	key, err := credential.ParseMasterKey(mk)
	require.NoError(t, err)
	kms, err := credential.NewLocalKMS(key)
	require.NoError(t, err)
	vault, err := credential.NewVault(b.st, kms, nil)
	require.NoError(t, err)

	providers := map[string]*spec.Provider{
		"helpdesk": {Name: "helpdesk", Auth: spec.Auth{Kind: spec.AuthAPIKey, Header: "X-Api-Key"},
			Scopes: []spec.Scope{{Name: "tickets.read", Description: "Read tickets"}}},
		"incidents": {Name: "incidents", Auth: spec.Auth{Kind: spec.AuthBearer},
			Scopes: []spec.Scope{{Name: "incidents.write", Description: "Open incidents"}}},
	}
	contracts := map[string]*spec.Contract{
		"escalation": {Name: "escalation", Version: "1.0.0", Providers: []string{"helpdesk", "incidents"}},
	}
	deps := api.Deps{Store: b.st, Queue: b.queue, Vault: vault, Token: clToken, Providers: providers, Contracts: contracts}
	if edit != nil {
		edit(&deps)
	}
	a := api.New(deps)
	root := http.NewServeMux()
	for pattern, h := range a.Routes() {
		root.Handle(pattern, h)
	}
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	b.url = srv.URL
	b.client = &api.Client{BaseURL: srv.URL, Token: clToken, HTTP: srv.Client()}

	tenant, err := b.client.CreateTenant(t.Context(), "acme", "Acme Corp")
	require.NoError(t, err)
	require.Equal(t, "acme", tenant.ID)
	require.Equal(t, "Acme Corp", tenant.Name)
	return b
}

// install creates both connections and the escalation installation for
// tenant "acme" through the client.
func (b *clientBundle) install(t *testing.T) (api.Installation, map[string]api.Connection) {
	t.Helper()
	inst, conns, err := b.client.InstallContract(t.Context(), "acme", "escalation", map[string]api.ConnectionInput{
		"helpdesk":  {APIKey: "hd-key", WebhookSecret: "hd-webhook-secret"},
		"incidents": {APIKey: "inc-key"},
	})
	require.NoError(t, err)
	return inst, conns
}

func TestClientInstallContract(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := t.Context()

	inst, conns := b.install(t)
	require.Len(t, conns, 2)
	hd, inc := conns["helpdesk"], conns["incidents"]
	require.Equal(t, "helpdesk", hd.Provider)
	require.Equal(t, "active", hd.State)
	require.Equal(t, "/hooks/"+hd.ID, hd.HookPath)
	require.Equal(t, []api.Scope{{Name: "tickets.read", Description: "Read tickets"}}, hd.GrantedScopes)
	require.Equal(t, "incidents", inc.Provider)
	require.Equal(t, "escalation", inst.Contract)
	require.Equal(t, "1.0.0", inst.ContractVersion)
	require.Equal(t, "active", inst.State)
	require.Equal(t, map[string]string{"helpdesk": hd.ID, "incidents": inc.ID}, inst.Connections)

	// The webhook secret reached the vault with the connection.
	stored, err := b.st.GetConnection(ctx, "acme", hd.ID)
	require.NoError(t, err)
	require.NotEmpty(t, stored.Secret)

	list, err := b.client.ListConnections(ctx, "acme")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{hd.ID, inc.ID}, []string{list[0].ID, list[1].ID})

	got, err := b.client.GetConnection(ctx, "acme", inc.ID)
	require.NoError(t, err)
	require.Equal(t, inc.ID, got.ID)
	require.Equal(t, "active", got.State)
}

func TestClientCreateConnectionScopes(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := t.Context()

	// An empty list grants no scope; it must not read as "all scopes".
	none, err := b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "helpdesk", APIKey: "k", Scopes: []string{}})
	require.NoError(t, err)
	require.Empty(t, none.GrantedScopes)

	all, err := b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "helpdesk", APIKey: "k"})
	require.NoError(t, err)
	require.Len(t, all.GrantedScopes, 1)
}

func TestClientPauseResume(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := t.Context()
	inst, _ := b.install(t)

	paused, err := b.client.PauseInstallation(ctx, "acme", inst.ID)
	require.NoError(t, err)
	require.Equal(t, "paused", paused.State)
	stored, err := b.st.GetInstallation(ctx, "acme", inst.ID)
	require.NoError(t, err)
	require.Equal(t, store.InstallationPaused, stored.State)

	resumed, err := b.client.ResumeInstallation(ctx, "acme", inst.ID)
	require.NoError(t, err)
	require.Equal(t, "active", resumed.State)
}

func TestClientRecordErrors(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := t.Context()
	inst, _ := b.install(t)
	now := time.Now().UTC()
	for _, re := range []store.RecordError{
		{ID: "re_open", Status: store.RecordErrorOpen, Class: "permission", Remediation: "grant incidents.write"},
		{ID: "re_done", Status: store.RecordErrorResolved, Class: "validation"},
	} {
		re.TenantID, re.InstallationID, re.Object, re.SourceID = "acme", inst.ID, "ticket", "T-1"
		re.JobKind, re.JobArgs, re.CreatedAt, re.UpdatedAt = "deliver_event", json.RawMessage(`{"event_id":"ev_1"}`), now, now
		require.NoError(t, b.st.InsertRecordError(ctx, re))
	}

	all, err := b.client.ListRecordErrors(ctx, "acme", "")
	require.NoError(t, err)
	require.Len(t, all, 2)
	open, err := b.client.ListRecordErrors(ctx, "acme", "open")
	require.NoError(t, err)
	require.Len(t, open, 1)
	require.Equal(t, "re_open", open[0].ID)
	require.Equal(t, "grant incidents.write", open[0].Remediation)

	retried, err := b.client.RetryRecordError(ctx, "acme", "re_open")
	require.NoError(t, err)
	require.Equal(t, "retrying", retried.Status)
	require.Equal(t, []string{"deliver_event"}, b.queue.kinds)
	got, err := b.client.GetRecordError(ctx, "acme", "re_open")
	require.NoError(t, err)
	require.Equal(t, "retrying", got.Status)

	// Retrying a resolved error is refused with the server's reason.
	_, err = b.client.RetryRecordError(ctx, "acme", "re_done")
	var ce *api.ClientError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, http.StatusConflict, ce.Status)
	require.Contains(t, ce.Message, "already resolved")
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := t.Context()

	const wrongToken = "wrong-token-that-must-not-leak"
	tests := []struct {
		name       string
		call       func(c *api.Client) error
		token      string
		wantStatus int
		wantMsg    string
	}{
		{"wrong token", func(c *api.Client) error { _, err := c.ListConnections(ctx, "acme"); return err },
			wrongToken, http.StatusUnauthorized, "unauthorized"},
		{"unknown connection", func(c *api.Client) error { _, err := c.GetConnection(ctx, "acme", "conn_nope"); return err },
			clToken, http.StatusNotFound, "not found"},
		{"unknown installation", func(c *api.Client) error { _, err := c.PauseInstallation(ctx, "acme", "inst_nope"); return err },
			clToken, http.StatusNotFound, "not found"},
		{"tenant exists", func(c *api.Client) error { _, err := c.CreateTenant(ctx, "acme", "Again"); return err },
			clToken, http.StatusConflict, "already exists"},
		{"contract not loaded", func(c *api.Client) error {
			_, _, err := c.InstallContract(ctx, "acme", "nope", map[string]api.ConnectionInput{"helpdesk": {APIKey: "k"}})
			return err
		}, clToken, http.StatusBadRequest, `contract "nope" is not loaded`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &api.Client{BaseURL: b.url, Token: tt.token}
			err := tt.call(c)
			var ce *api.ClientError
			require.True(t, errors.As(err, &ce), "%v", err)
			require.Equal(t, tt.wantStatus, ce.Status)
			require.Contains(t, ce.Message, tt.wantMsg)
			require.NotContains(t, err.Error(), tt.token)
		})
	}
}

func TestClientTransportErrorHidesToken(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens: the call fails before any answer
	c := &api.Client{BaseURL: srv.URL, Token: clToken}
	_, err := c.ListRecordErrors(t.Context(), "acme", "open")
	require.Error(t, err)
	var ce *api.ClientError
	require.False(t, errors.As(err, &ce), "no answer is not an API error")
	require.NotContains(t, err.Error(), clToken)
}
