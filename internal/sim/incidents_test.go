package sim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
)

type incidentsBundle struct {
	sim   *sim.Incidents
	url   string
	clock *clock
}

func setupIncidents(t *testing.T, cfg sim.Config) incidentsBundle {
	t.Helper()
	clk := newClock()
	cfg.Token, cfg.Now = token, clk.Now
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	s := sim.NewIncidents(&cfg)
	t.Cleanup(s.Stop)
	return incidentsBundle{sim: s, url: serve(t, s.Handler()), clock: clk}
}

func incidentBody(fields map[string]any) map[string]any { return map[string]any{"incident": fields} }

func TestIncidentsCRUD(t *testing.T) {
	t.Parallel()
	b := setupIncidents(t, sim.Config{})

	r := call(t, http.MethodPost, b.url+"/v1/incidents", token, incidentBody(map[string]any{
		"title": "Ticket T-1 escalated", "description": "Printer on fire", "severity": 1,
		"link": "http://helpdesk/tickets/T-1", "external_id": "T-1",
	}))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	in := r.JSON(t)["incident"].(map[string]any)
	require.Equal(t, "inc_1", in["id"])
	require.Equal(t, "triggered", in["status"])
	require.EqualValues(t, 1, in["severity"])
	require.Equal(t, b.clock.Now().Format(time.RFC3339Nano), in["created_at"])

	b.clock.Advance(time.Minute)
	r = call(t, http.MethodPatch, b.url+"/v1/incidents/inc_1", token, incidentBody(map[string]any{"status": "acknowledged", "severity": 2}))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	in = r.JSON(t)["incident"].(map[string]any)
	require.Equal(t, "acknowledged", in["status"])
	require.Equal(t, "Ticket T-1 escalated", in["title"], "PATCH keeps absent fields")

	r = call(t, http.MethodGet, b.url+"/v1/incidents/inc_1", token, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.EqualValues(t, 2, r.JSON(t)["incident"].(map[string]any)["severity"])

	call(t, http.MethodPost, b.url+"/v1/incidents", token, incidentBody(map[string]any{"title": "other", "external_id": "T-2"}))
	r = call(t, http.MethodGet, b.url+"/v1/incidents?external_id=T-1", token, nil)
	require.Equal(t, http.StatusOK, r.Status)
	list := r.JSON(t)["incidents"].([]any)
	require.Len(t, list, 1)
	require.Equal(t, "inc_1", list[0].(map[string]any)["id"])
	r = call(t, http.MethodGet, b.url+"/v1/incidents?external_id=nope", token, nil)
	require.Empty(t, r.JSON(t)["incidents"])

	r = call(t, http.MethodGet, b.url+"/v1/incidents/inc_99", token, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	require.Equal(t, 2, b.sim.Count())
	require.Equal(t, "acknowledged", b.sim.Incidents()[0].Status)
}

func TestIncidentsValidation(t *testing.T) {
	t.Parallel()
	b := setupIncidents(t, sim.Config{})
	tests := []struct {
		name    string
		body    any
		status  int
		message string
	}{
		{"missing title", incidentBody(map[string]any{"severity": 1}), 422, "title is required"},
		{"severity too high", incidentBody(map[string]any{"title": "x", "severity": 4}), 422, "severity must be between 1 and 3"},
		{"severity zero", incidentBody(map[string]any{"title": "x", "severity": 0}), 422, "severity must be between 1 and 3"},
		{"no envelope", map[string]any{"title": "x"}, 422, "incident is required"},
		{"not json", "just a string", 400, "invalid JSON body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, http.MethodPost, b.url+"/v1/incidents", token, tc.body)
			require.Equal(t, tc.status, r.Status)
			require.Equal(t, tc.message, r.ErrorMessage(t))
		})
	}
	require.Zero(t, b.sim.Count())
}

func TestIncidentsIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setupIncidents(t, sim.Config{})
	body := incidentBody(map[string]any{"title": "T-1", "severity": 2, "external_id": "T-1"})

	first := call(t, http.MethodPost, b.url+"/v1/incidents", token, body, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusCreated, first.Status)
	b.clock.Advance(time.Hour)
	again := call(t, http.MethodPost, b.url+"/v1/incidents", token, body, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, string(first.Body), string(again.Body), "a retry gets the original response")
	require.Equal(t, 1, b.sim.Count())

	other := incidentBody(map[string]any{"title": "T-1", "severity": 1, "external_id": "T-1"})
	r := call(t, http.MethodPost, b.url+"/v1/incidents", token, other, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, 1, b.sim.Count())

	r = call(t, http.MethodPost, b.url+"/v1/incidents", token, body, "Idempotency-Key", "k2")
	require.Equal(t, http.StatusCreated, r.Status)
	r = call(t, http.MethodPost, b.url+"/v1/incidents", token, body)
	require.Equal(t, http.StatusCreated, r.Status)
	require.Equal(t, 3, b.sim.Count(), "new key or no key creates")
}

func TestIncidentsAuthAndScopes(t *testing.T) {
	t.Parallel()
	b := setupIncidents(t, sim.Config{})
	body := incidentBody(map[string]any{"title": "x"})

	r := call(t, http.MethodPost, b.url+"/v1/incidents", "", body)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, "invalid token", r.ErrorMessage(t))
	r = call(t, http.MethodPost, b.url+"/v1/incidents", "stolen", body)
	require.Equal(t, http.StatusUnauthorized, r.Status)

	b.sim.RevokeScope(token, sim.ScopeIncidentsWrite)
	r = call(t, http.MethodPost, b.url+"/v1/incidents", token, body)
	require.Equal(t, http.StatusForbidden, r.Status)
	require.Equal(t, "missing scope incidents.write", r.ErrorMessage(t))
	r = call(t, http.MethodGet, b.url+"/v1/incidents", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "read scope still held")
	require.Zero(t, b.sim.Count())

	b.sim.GrantScope(token, sim.ScopeIncidentsWrite)
	r = call(t, http.MethodPost, b.url+"/v1/incidents", token, body)
	require.Equal(t, http.StatusCreated, r.Status)

	b.sim.GrantScope("read-only", sim.ScopeIncidentsRead)
	require.Equal(t, http.StatusOK, call(t, http.MethodGet, b.url+"/v1/incidents/inc_1", "read-only", nil).Status)
	require.Equal(t, http.StatusForbidden, call(t, http.MethodPatch, b.url+"/v1/incidents/inc_1", "read-only", body).Status)

	b.sim.RevokeToken(token)
	require.Equal(t, http.StatusUnauthorized, call(t, http.MethodGet, b.url+"/v1/incidents", token, nil).Status)
}

func TestIncidentsRateLimit(t *testing.T) {
	t.Parallel()
	b := setupIncidents(t, sim.Config{RateLimit: 0.5, RateBurst: 2})
	get := func() response { return call(t, http.MethodGet, b.url+"/v1/incidents", token, nil) }

	require.Equal(t, http.StatusOK, get().Status)
	require.Equal(t, http.StatusOK, get().Status)
	r := get()
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "2", r.Header.Get("Retry-After"), "one token refills in 2s at 0.5 rps")

	b.clock.Advance(time.Second)
	r = get()
	require.Equal(t, http.StatusTooManyRequests, r.Status, "rejected requests do not consume tokens, but none refilled yet")
	require.Equal(t, "1", r.Header.Get("Retry-After"))

	b.clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, get().Status, "obeying Retry-After succeeds")
	require.Equal(t, http.StatusTooManyRequests, get().Status)
}

// The incident tool answers with an ETag and honours If-Match: a PATCH
// based on an older state is refused with 412, as conditional-write APIs
// do (the protection against a late write overwriting newer data).
func TestIncidentsConditionalUpdate(t *testing.T) {
	t.Parallel()
	b := setupIncidents(t, sim.Config{})
	r := call(t, http.MethodPost, b.url+"/v1/incidents", token, incidentBody(map[string]any{"title": "one", "external_id": "T-1"}))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	first := r.Header.Get("ETag")
	require.Equal(t, `"1"`, first)

	r = call(t, http.MethodPatch, b.url+"/v1/incidents/inc_1", token, incidentBody(map[string]any{"title": "two"}), "If-Match", first)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	second := r.Header.Get("ETag")
	require.Equal(t, `"2"`, second)

	r = call(t, http.MethodPatch, b.url+"/v1/incidents/inc_1", token, incidentBody(map[string]any{"title": "late"}), "If-Match", first)
	require.Equal(t, http.StatusPreconditionFailed, r.Status, "based on an older state")
	require.Equal(t, second, r.Header.Get("ETag"))
	in, err := b.sim.Incident("inc_1")
	require.NoError(t, err)
	require.Equal(t, "two", in.Title, "the newer data is kept")

	r = call(t, http.MethodGet, b.url+"/v1/incidents/inc_1", token, nil)
	require.Equal(t, second, r.Header.Get("ETag"))
	r = call(t, http.MethodPatch, b.url+"/v1/incidents/inc_1", token, incidentBody(map[string]any{"title": "three"}))
	require.Equal(t, http.StatusOK, r.Status, "no If-Match: unconditional, as before")
}
