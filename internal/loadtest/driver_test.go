package loadtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/loadtest"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// TestDriveSendsEveryEventSignedOnce checks what the benchmark relies on:
// each event goes out exactly once, as a distinct escalated ticket the
// helpdesk's manifest can parse, with a signature Accord accepts.
func TestDriveSendsEveryEventSignedOnce(t *testing.T) {
	t.Parallel()
	scheme, err := signature.New("standard-webhooks", signature.Options{})
	require.NoError(t, err)

	var mu sync.Mutex
	tickets := map[string]int{}
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := scheme.Verify(signature.FromHTTP(r, body), [][]byte{[]byte(loadtest.WebhookSecret)}, time.Now())
		var ev struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				ID      string `json:"id"`
				Status  string `json:"status"`
				Version int    `json:"version"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || ev.Type != "ticket.updated" || ev.Data.Status != "escalated" || ev.Data.Version < 1 {
			bad = append(bad, string(body))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		tickets[ev.Data.ID]++
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)

	const n = 200
	// A high rate: the test checks what is sent, not when.
	sends, _ := loadtest.Drive(t.Context(), n, 100_000, 8, func(i int, now time.Time) (string, []byte, http.Header) {
		return loadtest.Signed(scheme, srv.URL+"/hooks/c1", "run", "T"+strconv.Itoa(i), i, now)
	})
	require.Len(t, sends, n)
	for i, s := range sends {
		require.Equal(t, http.StatusAccepted, s.Status(), "event %d", i)
	}
	require.Empty(t, bad)
	require.Len(t, tickets, n, "one distinct ticket per event")
	for id, c := range tickets {
		require.Equal(t, 1, c, "ticket %s sent once", id)
	}
}
