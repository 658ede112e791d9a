package engine

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// A field two links wrote is compared with the newest write only, numbers
// as text match strings, and only observations after the write count.
func TestDriftedComparesWithTheNewestWrite(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	older := store.Link{LinkKey: store.LinkKey{Action: "account_mrr"}, TargetID: "1001", UpdatedAt: t0,
		Fields: json.RawMessage(`{"name":"Acme","mrr":20}`)}
	newer := store.Link{LinkKey: store.LinkKey{Action: "account"}, TargetID: "1001", UpdatedAt: t0.Add(time.Minute),
		Fields: json.RawMessage(`{"name":"Acme Renamed","meta":{"owner":"ana"}}`)}
	newest := NewestWritten([]store.Link{older, newer})

	doc := map[string]any{"name": "Acme Renamed", "mrr": "20", "meta": map[string]any{"owner": "ana"}}
	require.Empty(t, Drifted(doc, newest, t0.Add(2*time.Minute)), "the older link's name is not what the object should hold")

	doc["name"], doc["meta"] = "Typed by sales", map[string]any{"owner": "ben"}
	got := Drifted(doc, newest, t0.Add(2*time.Minute))
	require.Equal(t, []Drift{
		{Path: "meta.owner", Written: "ana", Now: "ben", Key: newer.LinkKey},
		{Path: "name", Written: "Acme Renamed", Now: "Typed by sales", Key: newer.LinkKey},
	}, got)
	require.Empty(t, Drifted(doc, newest, t0.Add(30*time.Second)), "seen before the newest write: no evidence")
	require.Len(t, Drifted(doc, newest, time.Time{}), 2, "a reconciliation compares whenever it looked")
}
