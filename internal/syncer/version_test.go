package syncer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// Versions come from the connector as exact json.Numbers, from tests as
// float64s, and as RFC 3339 text for timestamp fields: all order the same.
func TestVersionOf(t *testing.T) {
	t.Parallel()
	intObj := &spec.Object{Version: "updated", Fields: map[string]*spec.Field{"updated": {Type: spec.TypeInt}}}
	tsObj := &spec.Object{Version: "updated_at", UpdatedAt: "updated_at", Fields: map[string]*spec.Field{"updated_at": {Type: spec.TypeTimestamp}}}
	for _, tc := range []struct {
		obj  *spec.Object
		item map[string]any
		want int64
		ok   bool
	}{
		{intObj, map[string]any{"updated": json.Number("1767225600")}, 1767225600, true},
		{intObj, map[string]any{"updated": float64(42)}, 42, true},
		{intObj, map[string]any{"updated": json.Number("1.5")}, 0, false},
		{intObj, map[string]any{}, 0, false},
		{tsObj, map[string]any{"updated_at": "2026-01-01T00:00:00.5Z"}, time.Date(2026, 1, 1, 0, 0, 0, 5e8, time.UTC).UnixNano(), true},
		{tsObj, map[string]any{"updated_at": "yesterday"}, 0, false},
	} {
		got, ok := versionOf(tc.obj, tc.item)
		require.Equal(t, tc.ok, ok, "%v", tc.item)
		require.Equal(t, tc.want, got, "%v", tc.item)
	}
	require.Equal(t, "2026-01-01T00:00:00.5Z", formatVersion(tsObj, time.Date(2026, 1, 1, 0, 0, 0, 5e8, time.UTC).UnixNano()))
	require.Equal(t, "42", formatVersion(intObj, 42))
	upd, ok := updatedAt(&spec.Object{UpdatedAt: "updated"}, map[string]any{"updated": json.Number("1767225600")})
	require.True(t, ok)
	require.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), upd.UTC())
	require.Equal(t, "cus_1", scalarString("cus_1"))
	require.Equal(t, "12", scalarString(json.Number("12")))
	require.Empty(t, scalarString(map[string]any{}))
}

// A cron schedule fires at its next match (UTC); an interval after the
// run; a cron that cannot parse falls back to an hour rather than never.
func TestNextRun(t *testing.T) {
	t.Parallel()
	s := New(Deps{}, nil)
	at := time.Date(2026, 12, 6, 1, 30, 0, 0, time.UTC)
	require.Equal(t, time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC), s.nextRun(&spec.ScheduleTrigger{Cron: "0 2 * * *"}, at))
	require.Equal(t, time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC), s.nextRun(&spec.ScheduleTrigger{Cron: "0 2 * * *"}, at.Add(time.Hour)))
	require.Equal(t, at.Add(5*time.Minute), s.nextRun(&spec.ScheduleTrigger{Every: spec.Duration(5 * time.Minute)}, at))
	require.Equal(t, at.Add(time.Hour), s.nextRun(&spec.ScheduleTrigger{Cron: "not a cron"}, at))
}
