package engine_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func TestDeliverEscalatedTicketCreatesIncidentAndMessage(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	for _, tc := range []struct {
		ticket   string
		priority string
		severity int
	}{
		{"T-low", "low", 3},
		{"T-med", "med", 2},
		{"T-high", "high", 1},
		{"T-none", "", 2}, // no priority: the mapping's default
	} {
		tk := escalated(tc.ticket, 4, "Login broken for "+tc.ticket, tc.priority)
		require.NoError(t, tb.deliver(t, tb.event(t, tk)), tc.ticket)

		found := false
		for _, inc := range tb.incidents.Incidents() {
			if inc.ExternalID != tc.ticket {
				continue
			}
			require.False(t, found, "%s: a second incident", tc.ticket)
			found = true
			require.Equal(t, tc.severity, inc.Severity, "%s: priority %q", tc.ticket, tc.priority)
			require.Equal(t, tk.Title, inc.Title, tc.ticket)
			require.Equal(t, tk.url(), inc.Link, tc.ticket)
			require.Equal(t, "triggered", inc.Status, tc.ticket)

			link, err := tb.incidentLink(t, tc.ticket)
			require.NoError(t, err, tc.ticket)
			require.Equal(t, inc.ID, link.TargetID, tc.ticket)
			require.EqualValues(t, 4, link.Version, "%s: the link carries the event's version", tc.ticket)
		}
		require.True(t, found, "%s: no incident", tc.ticket)
	}
	require.Equal(t, 4, tb.incidents.Count())

	msgs := tb.chat.Messages("escalations")
	require.Len(t, msgs, 4, "one chat message per escalated ticket")
	require.Equal(t, "Escalated: Login broken for T-low "+escalated("T-low", 4, "", "").url(), msgs[0].Text)
	require.EqualValues(t, 8, tb.actions(t, "", "applied"), "4 incidents and 4 messages")
	for _, provider := range []string{"incidents", "chat"} {
		require.EqualValues(t, 4, tb.counter(t, "accord_event_to_action_seconds", map[string]string{"provider": provider}),
			"%s: one receipt → partner write latency per written record", provider)
	}
	// Creates after a lookup by external id (incidents), plain creates (chat).
	require.EqualValues(t, 8, tb.counter(t, "accord_action_duration_seconds", map[string]string{"op": "create"}))
}

func TestDeliverNotEscalatedDoesNothing(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	tk := ticket{ID: "T-1", Version: 1, Title: "Printer on fire", Priority: "high", Status: "open"}
	require.NoError(t, tb.deliver(t, tb.event(t, tk)))

	require.Zero(t, tb.incidents.Count())
	require.Empty(t, tb.chat.Messages("escalations"))
	_, err := tb.incidentLink(t, "T-1")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Empty(t, tb.recordErrors(t))
}

func TestDeliverTwiceIsOneIncidentAndOneMessage(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	tk := escalated("T-1", 2, "Checkout down", "high")
	args := tb.event(t, tk)
	require.NoError(t, tb.deliver(t, args))
	require.NoError(t, tb.deliver(t, args), "the job re-run")
	// The partner sent the same change again under a new event id.
	require.NoError(t, tb.deliver(t, tb.event(t, tk)))

	tb.onlyIncident(t)
	require.Len(t, tb.chat.Messages("escalations"), 1)
	require.Len(t, tb.front.writes(), 1, "one POST, no PATCH of an unchanged incident")
}

func TestDeliverOlderVersionAfterNewerIsStale(t *testing.T) {
	t.Parallel()
	// An upsert would overwrite the incident if the watermark let v2 through.
	tb := setupWith(t, setupOpts{editContract: upsertIncidents("")})

	require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 3, "Checkout down for everyone", "high"))))
	require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 2, "Checkout slow", "low"))))

	inc := tb.onlyIncident(t)
	require.Equal(t, "Checkout down for everyone", inc.Title)
	require.Equal(t, 1, inc.Severity)
	link, err := tb.incidentLink(t, "T-1")
	require.NoError(t, err)
	require.EqualValues(t, 3, link.Version, "the watermark never moves back")
	require.EqualValues(t, 1, tb.actions(t, "incidents", "stale"))
	require.EqualValues(t, 1, tb.actions(t, "chat", "stale"))
	require.Len(t, tb.chat.Messages("escalations"), 1)
	require.Len(t, tb.front.writes(), 1)
}

func TestDeliverNewerVersionUpdatesIncident(t *testing.T) {
	t.Parallel()
	tb := setupWith(t, setupOpts{editContract: upsertIncidents("")})

	require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout slow", "low"))))
	first := tb.onlyIncident(t)
	require.Equal(t, 3, first.Severity)

	require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 2, "Checkout down", "high"))))
	inc := tb.onlyIncident(t)
	require.Equal(t, first.ID, inc.ID)
	require.Equal(t, "Checkout down", inc.Title)
	require.Equal(t, 1, inc.Severity)
	require.Equal(t, []partnerRequest{
		{http.MethodPost, "/v1/incidents"},
		{http.MethodPatch, "/v1/incidents/" + first.ID},
	}, tb.front.writes())
	link, err := tb.incidentLink(t, "T-1")
	require.NoError(t, err)
	require.EqualValues(t, 2, link.Version)
	require.Len(t, tb.chat.Messages("escalations"), 1, "notify_chat only creates")
}

func TestDeliverFindsIncidentWhoseLinkWasLost(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	// A previous attempt created the incident, then died before writing the
	// link.
	body, err := json.Marshal(map[string]any{"incident": map[string]any{
		"title": "Checkout down", "severity": 1, "external_id": "T-1",
	}})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, tb.incidentsURL+"/v1/incidents", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+simToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	orphan := tb.onlyIncident(t)

	require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout down", "high"))))

	require.Equal(t, orphan.ID, tb.onlyIncident(t).ID, "found by external id, not created twice")
	link, err := tb.incidentLink(t, "T-1")
	require.NoError(t, err)
	require.Equal(t, orphan.ID, link.TargetID)
}

func TestDeliverConcurrentVersionsOfOneTicket(t *testing.T) {
	t.Parallel()
	tb := setupWith(t, setupOpts{editContract: upsertIncidents("")})

	const n = 20
	priorities := []string{"low", "med", "high"}
	jobs := make([]engineArgs, n)
	for v := 1; v <= n; v++ {
		jobs[v-1] = tb.event(t, escalated("T-1", v, "Checkout v"+itoa(v), priorities[v%3]))
	}
	errs := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			errs[i] = tb.engine.DeliverForTest(t.Context(), jobs[i])
		}()
	}
	start.Done()
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "version %d", i+1)
	}

	inc := tb.onlyIncident(t)
	require.Equal(t, "Checkout v20", inc.Title, "the newest version wins")
	require.Equal(t, 1, inc.Severity, "v20 is high")
	link, err := tb.incidentLink(t, "T-1")
	require.NoError(t, err)
	require.EqualValues(t, n, link.Version)
	require.Equal(t, inc.ID, link.TargetID)
	require.Len(t, tb.chat.Messages("escalations"), 1)
	require.Empty(t, tb.recordErrors(t))
}
