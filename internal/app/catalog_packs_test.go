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
