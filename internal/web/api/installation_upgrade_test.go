package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/web/api"
)

// An installation stays on the contract version it was installed with
// when a newer one is loaded, shows both, and moves only on upgrade (which
// the audit log records).
func TestUpgradeInstallationPinsVersions(t *testing.T) {
	t.Parallel()
	var v1 *spec.Contract
	b := setupClientWith(t, func(d *api.Deps) {
		v1 = d.Contracts["escalation"]
		d.Versions = map[string]map[string]*spec.Contract{"escalation": {"1.0.0": v1}}
	})
	inst, _ := b.install(t)
	require.Equal(t, "1.0.0", inst.ContractVersion)
	require.False(t, inst.UpgradeAvailable)

	// A newer version is loaded (a restart with an upgraded pack): the
	// API is rebuilt over the same store.
	v2 := *v1
	v2.Version = "1.1.0"
	b2 := setupClientOver(t, b, func(d *api.Deps) {
		d.Contracts = map[string]*spec.Contract{"escalation": &v2}
		d.Versions = map[string]map[string]*spec.Contract{"escalation": {"1.0.0": v1, "1.1.0": &v2}}
	})
	got, err := b2.client.GetInstallation(t.Context(), "acme", inst.ID)
	require.NoError(t, err)
	require.Equal(t, "1.0.0", got.ContractVersion, "still pinned")
	require.Equal(t, "1.1.0", got.LatestContractVersion)
	require.True(t, got.UpgradeAvailable)

	up, err := b2.client.UpgradeInstallation(t.Context(), "acme", inst.ID, "")
	require.NoError(t, err)
	require.Equal(t, "1.1.0", up.ContractVersion)
	require.False(t, up.UpgradeAvailable)

	back, err := b2.client.UpgradeInstallation(t.Context(), "acme", inst.ID, "1.0.0")
	require.NoError(t, err, "a rollback to a loaded version")
	require.Equal(t, "1.0.0", back.ContractVersion)

	_, err = b2.client.UpgradeInstallation(t.Context(), "acme", inst.ID, "9.9.9")
	require.ErrorContains(t, err, `version "9.9.9" is not loaded`)

	audit, err := b.st.ListAudit(t.Context(), "acme", 0, 100)
	require.NoError(t, err)
	var upgrades int
	for _, e := range audit {
		if e.Action == "installation.upgraded" {
			upgrades++
		}
	}
	require.Equal(t, 2, upgrades)
}

// setupClientOver serves a second API over b's store, as a restarted
// process with another catalog would.
func setupClientOver(t *testing.T, b *clientBundle, edit func(d *api.Deps)) *clientBundle {
	t.Helper()
	deps := api.Deps{Store: b.st, Queue: b.queue, Token: clToken}
	edit(&deps)
	a := api.New(deps)
	root := http.NewServeMux()
	for pattern, h := range a.Routes() {
		root.Handle(pattern, h)
	}
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	return &clientBundle{st: b.st, queue: b.queue, url: srv.URL, client: &api.Client{BaseURL: srv.URL, Token: clToken, HTTP: srv.Client()}}
}
