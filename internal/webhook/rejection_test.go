package webhook_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/webhook"
)

// countingStore counts the writes of rejection counts.
type countingStore struct {
	store.Store
	writes atomic.Int64
}

func (c *countingStore) AddWebhookRejections(ctx context.Context, rs []store.WebhookRejection) error {
	c.writes.Add(1)
	return c.Store.AddWebhookRejections(ctx, rs)
}

// A flood of forged requests is counted per connection and reason for the
// health page, in memory: nothing is written while they arrive, and one
// flush writes them all in one statement.
func TestRejectionsStoredInOneWrite(t *testing.T) {
	t.Parallel()
	cs := &countingStore{}
	b := setup(t, options{
		cfg:  &webhook.Config{RejectionFlushInterval: time.Hour},
		wrap: func(st store.Store) store.Store { cs.Store = st; return cs },
	})
	body := ticketEvent("evt_1", "ticket.updated", "T-1", testNow, "")
	for i := range 30 {
		r := b.do(t, b.signed(t, connID, body, "whsec_Zm9yZ2VkLXNlY3JldC1ieS1hbi1hdHRhY2tlcg==", testNow, "d-"+string(rune('a'+i))))
		require.Equal(t, http.StatusUnauthorized, r.status, r.body)
	}
	for range 2 {
		r := b.send(t, []byte(`{"id": "evt_1", "type": `))
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
	}
	require.Equal(t, http.StatusAccepted, b.send(t, body).status, "an accepted event is not a rejection")
	require.Zero(t, cs.writes.Load(), "no write per rejected request")

	require.NoError(t, b.ingress.FlushRejections(t.Context()))
	require.Equal(t, int64(1), cs.writes.Load())
	got, err := b.st.CountWebhookRejections(t.Context(), tenantID, connID, testNow.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, map[string]int{"bad_signature": 30, "malformed": 2}, got)

	// Nothing new: no write.
	require.NoError(t, b.ingress.FlushRejections(t.Context()))
	require.Equal(t, int64(1), cs.writes.Load())
}
