package engine

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

func TestSourceIDOfRecordKey(t *testing.T) {
	t.Parallel()
	sub := &spec.Object{Name: "subscription"}
	company := &spec.Object{Name: "company"}
	crm := &spec.Provider{Name: "crm"}
	ct := &compiledTrigger{source: sub}
	keyed := &compiledAction{provider: crm, target: company, recordKey: "customer"}
	plain := &compiledAction{provider: crm, target: company}

	for _, tc := range []struct {
		name    string
		action  *compiledAction
		doc     map[string]any
		want    string
		wantErr string
	}{
		{"own id without a record key", plain, map[string]any{"customer": "cus_1"}, "sub_1", ""},
		{"record key value", keyed, map[string]any{"customer": "cus_1"}, "cus_1", ""},
		{"numeric record key", keyed, map[string]any{"customer": 42.0}, "42", ""},
		{"missing record key", keyed, map[string]any{}, "", "the record key subscription.customer is missing from the event's subscription, so Accord cannot tell which crm.company record it belongs to"},
		{"empty record key", keyed, map[string]any{"customer": ""}, "", "is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := sourceIDOf(ct, tc.action, "sub_1", tc.doc)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	require.Equal(t, spec.RecordKeyObject, linkSource(ct, keyed))
	require.Equal(t, "subscription", linkSource(ct, plain))
}

func TestRecordKeyedActionsShareOneLock(t *testing.T) {
	t.Parallel()
	key := func(src, action string) store.LinkKey {
		return store.LinkKey{TenantID: "t", InstallationID: "i", SourceObject: src, SourceID: "cus_1", TargetObject: "crm.company", Action: action}
	}
	require.Equal(t, lockKey(key(spec.RecordKeyObject, "company")), lockKey(key(spec.RecordKeyObject, "company_mrr")),
		"customer and subscription events of one customer write one company, one at a time")
	require.NotEqual(t, lockKey(key("ticket", "create_incident")), lockKey(key("ticket", "notify_chat")),
		"actions keyed by their own object still run side by side")
}
