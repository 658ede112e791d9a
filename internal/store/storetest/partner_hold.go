package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testPartnerHolds: a partner's Retry-After is shared through the store;
// a hold only ever extends, and an expired one is not listed.
func testPartnerHolds(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	seed(t, s, "t1")
	seed(t, s, "t2")
	now := at(0)
	require.NoError(t, s.HoldPartner(ctx, "t1", "incidents", now.Add(2*time.Second)))
	require.NoError(t, s.HoldPartner(ctx, "t1", "incidents", now.Add(time.Second)), "an earlier until")
	require.NoError(t, s.HoldPartner(ctx, "t2", "chat", now.Add(-time.Second)), "already over")
	holds, err := s.ListPartnerHolds(ctx, now)
	require.NoError(t, err)
	require.Equal(t, []store.PartnerHold{{TenantID: "t1", Provider: "incidents", Until: norm(now.Add(2 * time.Second))}}, holds,
		"the longer hold is kept; the expired one is not listed")

	require.NoError(t, s.HoldPartner(ctx, "t1", "incidents", now.Add(5*time.Second)))
	holds, err = s.ListPartnerHolds(ctx, now)
	require.NoError(t, err)
	require.Len(t, holds, 1)
	require.Equal(t, norm(now.Add(5*time.Second)), holds[0].Until, "extended")

	require.ErrorIs(t, s.HoldPartner(ctx, "nobody", "incidents", now.Add(time.Second)), store.ErrNotFound)
}
