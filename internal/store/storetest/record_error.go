package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func testRecordErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	inst2 := f.inst
	inst2.ID = "inst_2"
	require.NoError(t, s.CreateInstallation(ctx, inst2))

	e := store.RecordError{
		TenantID: "t1", ID: "re_1", InstallationID: f.inst.ID, EventID: "evt_1", Object: "ticket", SourceID: "T-1",
		Class: "validation", Message: "field 'severity' must be one of 1..4", Remediation: "Map severity values.",
		Status: store.RecordErrorOpen, JobKind: "deliver", JobArgs: json.RawMessage(`{"event_id":"evt_1"}`),
		Sample:    json.RawMessage(`{"id":"T-1","requester":{"email":"a***@example.com"}}`),
		CreatedAt: at(0), UpdatedAt: at(time.Second),
	}
	require.NoError(t, s.InsertRecordError(ctx, e))
	require.ErrorIs(t, s.InsertRecordError(ctx, e), store.ErrConflict)

	got, err := s.GetRecordError(ctx, "t1", "re_1")
	require.NoError(t, err)
	requireJSONEq(t, e.JobArgs, got.JobArgs, "job args")
	requireJSONEq(t, e.Sample, got.Sample, "sample")
	want := e
	want.CreatedAt, want.UpdatedAt = norm(e.CreatedAt), norm(e.UpdatedAt)
	want.JobArgs, got.JobArgs = nil, nil
	want.Sample, got.Sample = nil, nil
	require.Equal(t, want, got)

	more := []store.RecordError{
		{ID: "re_2", InstallationID: f.inst.ID, Status: store.RecordErrorResolved, CreatedAt: at(time.Minute)},
		{ID: "re_3", InstallationID: "inst_2", Status: store.RecordErrorOpen, CreatedAt: at(2 * time.Minute)},
		{ID: "re_4", InstallationID: f.inst.ID, Status: store.RecordErrorOpen, CreatedAt: at(3 * time.Minute)},
	}
	for _, m := range more {
		m.TenantID, m.Object, m.SourceID, m.Class = "t1", "ticket", "T-x", "partner_down"
		m.Message, m.Remediation = "503", "Wait; it retries."
		require.NoError(t, s.InsertRecordError(ctx, m))
	}

	tests := []struct {
		name   string
		filter store.RecordErrorFilter
		want   []string
	}{
		{"all, newest first", store.RecordErrorFilter{}, []string{"re_4", "re_3", "re_2", "re_1"}},
		{"by installation", store.RecordErrorFilter{InstallationID: f.inst.ID}, []string{"re_4", "re_2", "re_1"}},
		{"by status", store.RecordErrorFilter{Status: store.RecordErrorOpen}, []string{"re_4", "re_3", "re_1"}},
		{"both", store.RecordErrorFilter{InstallationID: "inst_2", Status: store.RecordErrorOpen}, []string{"re_3"}},
		{"limit", store.RecordErrorFilter{Limit: 2}, []string{"re_4", "re_3"}},
		{"none", store.RecordErrorFilter{Status: store.RecordErrorRetrying}, nil},
	}
	for _, tc := range tests {
		list, err := s.ListRecordErrors(ctx, "t1", tc.filter)
		require.NoError(t, err, tc.name)
		var ids []string
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		require.Equal(t, tc.want, ids, tc.name)
	}

	require.NoError(t, s.SetRecordErrorStatus(ctx, "t1", "re_1", store.RecordErrorRetrying))
	got, err = s.GetRecordError(ctx, "t1", "re_1")
	require.NoError(t, err)
	require.Equal(t, store.RecordErrorRetrying, got.Status)
	require.NotEqual(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt bumped")
	require.ErrorIs(t, s.SetRecordErrorStatus(ctx, "t1", "re_missing", store.RecordErrorResolved), store.ErrNotFound)
	_, err = s.GetRecordError(ctx, "t1", "re_missing")
	require.ErrorIs(t, err, store.ErrNotFound)
}
