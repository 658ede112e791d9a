package syncer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/privacy"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// TestSyncStoresOnlyDeclaredFields: a listed object is stored as an event
// with only the fields its manifest declares (the rest counted as
// dropped), and a change to an undeclared field alone is no new event.
func TestSyncStoresOnlyDeclaredFields(t *testing.T) {
	t.Parallel()
	p, diags := spec.LoadProvider("../../packs/crm-billing/providers/billing-app.yaml")
	require.Empty(t, diags, diags.Error())
	run := runState{tr: &trigger{provider: p, object: p.Objects["customer"]}, inst: store.Installation{TenantID: "t"}, connID: "c",
		shape: privacy.ObjectShape(p.Objects["customer"])}
	item := func(phone string) map[string]any {
		return map[string]any{"id": "cus_1", "object": "customer", "name": "Acme", "email": "a@acme.test", "updated": json.Number("7"),
			"phone": phone, "metadata": map[string]any{"owner": "ana", "internal_note": "do not store"}}
	}
	var st store.SyncState
	evs, skipped, dropped := run.events([]map[string]any{item("+1 555 0100")}, &st, time.Unix(8, 0))
	require.Zero(t, skipped)
	require.Len(t, evs, 1)
	require.Equal(t, 3, dropped, "object, phone and metadata.internal_note are not declared")
	var stored map[string]any
	require.NoError(t, json.Unmarshal(evs[0].Payload, &stored))
	require.Equal(t, map[string]any{"id": "cus_1", "name": "Acme", "email": "a@acme.test", "updated": 7.0,
		"metadata": map[string]any{"owner": "ana"}}, stored)

	again, _, _ := run.events([]map[string]any{item("+1 555 0199")}, &st, time.Unix(9, 0))
	require.Equal(t, evs[0].DedupKey, again[0].DedupKey, "a change to an undeclared field only is the same content")
}
