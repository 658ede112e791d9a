package row_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

func TestWrap(t *testing.T) {
	t.Parallel()
	driverErr := errors.New("driver says no")
	tests := []struct {
		kind    row.Kind
		is      []error
		wantMsg string
	}{
		{row.Other, []error{driverErr}, "sqlite: getting x: driver says no"},
		{row.NoRows, []error{store.ErrNotFound}, "sqlite: getting x: store: not found"},
		{row.Unique, []error{store.ErrConflict, driverErr}, "sqlite: getting x: store: already exists: driver says no"},
		{row.ForeignKey, []error{store.ErrNotFound}, "sqlite: getting x: tenant or referenced row missing: store: not found"},
	}
	for _, tc := range tests {
		err := row.Wrap("sqlite", "getting x", driverErr, tc.kind)
		require.EqualError(t, err, tc.wantMsg)
		for _, target := range tc.is {
			require.ErrorIs(t, err, target)
		}
	}
	require.NoError(t, row.Wrap("sqlite", "getting x", nil, row.Unique))
}

func TestSingle(t *testing.T) {
	t.Parallel()
	_, err := row.Single[int]("postgres", "looking up", "id", nil)
	require.ErrorIs(t, err, store.ErrNotFound)
	got, err := row.Single("postgres", "looking up", "id", []int{7})
	require.NoError(t, err)
	require.Equal(t, 7, got)
	_, err = row.Single("postgres", "looking up", "id", []int{7, 8})
	require.EqualError(t, err, "postgres: looking up: id shared by two tenants")
	require.NotErrorIs(t, err, store.ErrNotFound, "ambiguous must not read as missing")
}

func TestStamps(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	earlier := now.Add(-time.Hour)
	tests := []struct {
		name                     string
		created, updated         time.Time
		wantCreated, wantUpdated time.Time
	}{
		{"both zero", time.Time{}, time.Time{}, now, now},
		{"updated follows created", earlier, time.Time{}, earlier, earlier},
		{"both given", earlier, now, earlier, now},
	}
	for _, tc := range tests {
		c, u := row.Stamps(tc.created, tc.updated, clock)
		require.Equal(t, tc.wantCreated, c, tc.name)
		require.Equal(t, tc.wantUpdated, u, tc.name)
	}
}

func TestEventState(t *testing.T) {
	t.Parallel()
	got, err := row.EventState("sqlite", "inserting event", "")
	require.NoError(t, err)
	require.Equal(t, store.EventPending, got)
	got, err = row.EventState("sqlite", "inserting event", store.EventQueued)
	require.NoError(t, err)
	require.Equal(t, store.EventQueued, got)
	_, err = row.EventState("sqlite", "inserting event", "bogus")
	require.EqualError(t, err, `sqlite: inserting event: unknown event state "bogus"`)
}

func TestConnectionsRoundTrip(t *testing.T) {
	t.Parallel()
	enc, err := row.EncodeConnections(nil)
	require.NoError(t, err)
	require.Equal(t, "{}", enc, "NOT NULL column")
	dec, err := row.DecodeConnections([]byte(enc))
	require.NoError(t, err)
	require.Nil(t, dec)
	enc, err = row.EncodeConnections(map[string]string{"helpdesk": "conn_1"})
	require.NoError(t, err)
	dec, err = row.DecodeConnections([]byte(enc))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"helpdesk": "conn_1"}, dec)
	_, err = row.DecodeConnections([]byte("["))
	require.Error(t, err)
}
