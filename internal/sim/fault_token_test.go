package sim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
)

// One tenant's partner storms while the others' is healthy: the fault
// follows the token, stays until cleared, and does not block the queue.
func TestPersistentFaultLimitedToAToken(t *testing.T) {
	t.Parallel()
	c, url := setupChat(t, sim.Config{})
	const storming = "tenant-a-token"
	c.GrantScope(storming, sim.ScopeChatWrite)
	require.NoError(t, c.Inject(sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: 3 * time.Second, Token: storming, Persist: true}))
	require.NoError(t, c.Inject(sim.Fault{Kind: sim.FaultServerError}))
	post := func(tok string) response {
		return call(t, http.MethodPost, url+"/v1/channels/ops/messages", tok, map[string]string{"text": "hi"})
	}
	for range 5 {
		r := post(storming)
		require.Equal(t, http.StatusTooManyRequests, r.Status)
		require.Equal(t, "3", r.Header.Get("Retry-After"))
	}
	require.Equal(t, http.StatusServiceUnavailable, post(token).Status, "the queued fault is not blocked by the storm")
	require.Equal(t, http.StatusCreated, post(token).Status, "the other token's requests pass")
	require.Equal(t, 6, c.AppliedFaults()[sim.FaultRateLimit]+c.AppliedFaults()[sim.FaultServerError])
	require.Len(t, c.PendingFaults(), 1, "the storm stays until cleared")
	c.ClearFaults()
	require.Equal(t, http.StatusCreated, post(storming).Status)
	require.Error(t, c.Inject(sim.Fault{Kind: sim.FaultDuplicate, Persist: true}), "webhook faults cannot persist")
}
