package row_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// The SQL bucket expression agrees with store.LatencyBucket at and around
// every bound.
func TestLatencyBucketSQL(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	defer db.Close()
	q := "SELECT " + row.LatencyBucketSQL("?1")
	ds := []time.Duration{0, 1, time.Hour * 10}
	for _, b := range store.LatencyBounds {
		ds = append(ds, b-1, b, b+1)
	}
	for _, d := range ds {
		var got int
		require.NoError(t, db.QueryRow(q, int64(d)).Scan(&got))
		require.Equal(t, store.LatencyBucket(d), got, "latency %s", d)
	}
}
