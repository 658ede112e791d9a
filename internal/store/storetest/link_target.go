package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testLinksByTarget: the other direction of a two-way sync finds the links
// that wrote one partner object, in this installation only, with what they
// wrote.
func testLinksByTarget(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	g := seed(t, s, "t2")
	write := func(tenant, inst, source, id, target, targetID, action string) store.Link {
		l := store.Link{LinkKey: store.LinkKey{TenantID: tenant, InstallationID: inst, SourceObject: source, SourceID: id,
			TargetObject: target, Action: action}, TargetID: targetID, Version: 1, Fields: json.RawMessage(`{"name":"Acme"}`), UpdatedAt: at(time.Second)}
		require.NoError(t, s.UpsertLink(ctx, l))
		return l
	}
	company := write("t1", f.inst.ID, "customer", "cus_1", "crm.company", "1001", "company")
	mrr := write("t1", f.inst.ID, "subscription", "cus_1", "crm.company", "1001", "company_mrr")
	write("t1", f.inst.ID, "customer", "cus_2", "crm.company", "1002", "company")
	write("t2", g.inst.ID, "customer", "cus_1", "crm.company", "1001", "company")

	got, err := s.ListLinksByTarget(ctx, "t1", f.inst.ID, "crm.company", "1001")
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, company.LinkKey, got[0].LinkKey)
	require.Equal(t, mrr.LinkKey, got[1].LinkKey)
	requireJSONEq(t, company.Fields, got[0].Fields, "what was written")

	got, err = s.ListLinksByTarget(ctx, "t1", f.inst.ID, "crm.company", "9999")
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = s.ListLinksByTarget(ctx, "t1", f.inst.ID, "billing.customer", "1001")
	require.NoError(t, err)
	require.Empty(t, got, "another target object")
}

// testLinksToObject: an installation's links to one kind of partner object
// page by key, in order, and only those.
func testLinksToObject(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	for i := range 5 {
		require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: store.LinkKey{TenantID: "t1", InstallationID: f.inst.ID, SourceObject: "customer",
			SourceID: fmt.Sprintf("cus_%d", i), TargetObject: "crm.company", Action: "company"}, TargetID: fmt.Sprint(1000 + i), Version: 1, UpdatedAt: at(time.Second)}))
	}
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: store.LinkKey{TenantID: "t1", InstallationID: f.inst.ID, SourceObject: "account",
		SourceID: "1000", TargetObject: "billing.customer", Action: "owner"}, TargetID: "cus_0", Version: 1, UpdatedAt: at(time.Second)}))
	var got []string
	after := store.LinkKey{}
	for range 10 {
		page, err := s.ListLinksToObject(ctx, "t1", f.inst.ID, "crm.company", after, 2)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, l := range page {
			got = append(got, l.TargetID)
		}
		after = page[len(page)-1].LinkKey
	}
	require.Equal(t, []string{"1000", "1001", "1002", "1003", "1004"}, got)
}

// testMergeLinks: after a merge no link names the merged-away object: the
// links to it point to the survivor, the links from it are gone, and other
// installations' links are untouched.
func testMergeLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	g := seed(t, s, "t2")
	put := func(tenant, inst, source, id, target, targetID, action string) {
		require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: store.LinkKey{TenantID: tenant, InstallationID: inst, SourceObject: source, SourceID: id,
			TargetObject: target, Action: action}, TargetID: targetID, Version: 1, UpdatedAt: at(time.Second)}))
	}
	put("t1", f.inst.ID, "@record", "cus_1", "crm.account", "1001", "account")
	put("t1", f.inst.ID, "@record", "cus_2", "crm.account", "1002", "account")
	put("t1", f.inst.ID, "account", "1001", "billing.customer", "cus_1", "owner")
	put("t1", f.inst.ID, "account", "1002", "billing.customer", "cus_2", "owner")
	put("t2", g.inst.ID, "@record", "cus_1", "crm.account", "1001", "account")

	repointed, deleted, err := s.MergeLinks(ctx, "t1", f.inst.ID, "crm.account", "account", "1001", "1002")
	require.NoError(t, err)
	require.Equal(t, 1, repointed)
	require.Equal(t, 1, deleted)
	to, err := s.ListLinksByTarget(ctx, "t1", f.inst.ID, "crm.account", "1002")
	require.NoError(t, err)
	require.Len(t, to, 2, "both customers' links now name the survivor")
	gone, err := s.ListLinksByTarget(ctx, "t1", f.inst.ID, "crm.account", "1001")
	require.NoError(t, err)
	require.Empty(t, gone)
	_, err = s.GetLink(ctx, store.LinkKey{TenantID: "t1", InstallationID: f.inst.ID, SourceObject: "account", SourceID: "1001", TargetObject: "billing.customer", Action: "owner"})
	require.ErrorIs(t, err, store.ErrNotFound, "no link from the merged-away account")
	other, err := s.ListLinksByTarget(ctx, "t2", g.inst.ID, "crm.account", "1001")
	require.NoError(t, err)
	require.Len(t, other, 1, "another tenant's links are untouched")
}
