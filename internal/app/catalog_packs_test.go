package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func TestUsedByContract(t *testing.T) {
	t.Parallel()
	versions := map[string]map[string]*spec.Contract{"escalation": {"1": {Providers: []string{"helpdesk", "chat"}}}}
	require.True(t, usedByContract(versions, "chat"))
	require.False(t, usedByContract(versions, "hubspot"))
}

// The provider catalog loads beside the shipped packs: no duplicate
// provider, no problem.
func TestLoadCatalogWithProviderCatalog(t *testing.T) {
	t.Parallel()
	cat, err := LoadCatalog("../../packs")
	require.NoError(t, err)
	for _, name := range []string{"helpdesk", "incidents", "chat", "stripe", "hubspot", "pagerduty", "pagerduty-events", "slack", "github", "zendesk", "intercom", "shopify"} {
		require.Contains(t, cat.Providers, name)
	}
}
