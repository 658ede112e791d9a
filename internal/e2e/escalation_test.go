package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/web/api"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// TestEscalation runs the seed's end-to-end cases for the support
// escalation pack on every backend.
func TestEscalation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"escalation creates one incident and one message", testEscalationCreatesIncident},
		{"duplicate delivery creates one incident", testDuplicateDelivery},
		{"out of order delivery keeps the newest version", testOutOfOrder},
		{"429 waits for Retry-After", testRateLimited},
		{"permission removed then restored", testPermissionRemoved},
		{"422 files a validation record error", testValidation},
		{"5xx then success creates one incident", testServerErrorThenSuccess},
		{"large payloads", testLargePayloads},
		{"bad and replayed signatures are refused", testSignatures},
		{"webhook secret rotation keeps the previous secret until retired", testSecretRotation},
	}
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, setup(t, b))
				})
			}
		})
	}
}

func testEscalationCreatesIncident(t *testing.T, e *env) {
	tk, err := e.helpdesk.CreateTicket(sim.Ticket{Title: "Checkout is down", Priority: "high", Description: "Customers cannot pay."})
	require.NoError(t, err)
	e.barrier() // an open ticket does not match the trigger
	require.Empty(t, e.incidentsFor(tk.ID), "only an escalated ticket opens an incident")

	tk, err = e.helpdesk.Escalate(tk.ID)
	require.NoError(t, err)
	in := e.waitIncident(tk.ID)
	require.Equal(t, "Checkout is down", in.Title)
	require.Equal(t, 1, in.Severity, "priority high maps to severity 1")
	require.Equal(t, tk.URL, in.Link)
	require.Equal(t, "Customers cannot pay.", in.Description)
	require.Equal(t, "triggered", in.Status)

	require.Eventually(t, func() bool { return len(messagesAbout(e, tk.URL)) == 1 }, waitFor, 10*time.Millisecond)
	require.Equal(t, "Escalated: Checkout is down "+tk.URL, messagesAbout(e, tk.URL)[0].Text)

	e.barrier()
	require.Len(t, e.incidentsFor(tk.ID), 1)
	require.Len(t, messagesAbout(e, tk.URL), 1)
	require.Empty(t, e.recordErrors())
	require.GreaterOrEqual(t, counter(t, e.app.Registry, "accord_actions_total", map[string]string{"outcome": "applied"}), 2.0)
}

func testDuplicateDelivery(t *testing.T, e *env) {
	tk, err := e.helpdesk.CreateTicket(sim.Ticket{Title: "Duplicate me", Priority: "med"})
	require.NoError(t, err)
	e.waitDeliveries(1)
	require.NoError(t, e.helpdesk.Inject(sim.Fault{Kind: sim.FaultDuplicate}))
	_, err = e.helpdesk.Escalate(tk.ID)
	require.NoError(t, err)

	ds := e.waitDeliveries(3)
	require.True(t, ds[2].Duplicate, "the escalation went out twice")
	require.Equal(t, ds[1].EventID, ds[2].EventID)
	require.True(t, ds[1].OK && ds[2].OK, "a repeat is acknowledged, not refused: %+v", ds)

	in := e.waitIncident(tk.ID)
	require.Equal(t, 2, in.Severity)
	e.barrier()
	require.Len(t, e.incidentsFor(tk.ID), 1)
	require.Len(t, messagesAbout(e, tk.URL), 1)
	require.Equal(t, 1.0, counter(t, e.app.Registry, "accord_webhooks_received_total", map[string]string{"outcome": "duplicate"}))
}

func testOutOfOrder(t *testing.T, e *env) {
	tk, err := e.helpdesk.CreateTicket(sim.Ticket{Title: "Old title", Priority: "low"})
	require.NoError(t, err)
	e.waitDeliveries(1)
	// Version 2 (escalated, old title) is held back and arrives after
	// version 3 (escalated, new title).
	require.NoError(t, e.helpdesk.Inject(sim.Fault{Kind: sim.FaultReorder}))
	_, err = e.helpdesk.Escalate(tk.ID)
	require.NoError(t, err)
	title := "New title"
	v3, err := e.helpdesk.UpdateTicket(tk.ID, sim.TicketPatch{Title: &title})
	require.NoError(t, err)
	require.Equal(t, 3, v3.Version)

	ds := e.waitDeliveries(3)
	require.True(t, ds[2].Reordered, "version 2 went out last: %+v", ds)

	in := e.waitIncident(tk.ID)
	require.Eventually(t, func() bool {
		return counter(t, e.app.Registry, "accord_actions_total", map[string]string{"outcome": "stale"}) >= 1
	}, waitFor, 10*time.Millisecond, "version 2 is recognised as stale: %+v %+v", e.incidents.Incidents(), e.recordErrors())
	e.barrier()
	require.Len(t, e.incidentsFor(tk.ID), 1)
	in, err = e.incidents.Incident(in.ID)
	require.NoError(t, err)
	require.Equal(t, "New title", in.Title, "the newest version wins")
	msgs := messagesAbout(e, tk.URL)
	require.Len(t, msgs, 1)
	require.Contains(t, msgs[0].Text, "New title")
}

func testRateLimited(t *testing.T, e *env) {
	require.NoError(t, e.incidents.Inject(sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: time.Second}))
	tk := e.escalate("Throttled", "high", "")
	in := e.waitIncident(tk.ID)
	require.Equal(t, 1, in.Severity)

	calls := e.incidentCalls.all()
	require.NotEmpty(t, calls)
	limited := calls[0]
	require.Equal(t, http.StatusTooManyRequests, limited.Status, "calls: %+v", calls)
	var created *call
	for i := range calls {
		if calls[i].Method == http.MethodPost && calls[i].Status == http.StatusCreated {
			created = &calls[i]
			break
		}
	}
	require.NotNil(t, created, "the simulator saw the retry: %+v", calls)
	require.GreaterOrEqual(t, created.At.Sub(limited.At), time.Second, "Retry-After: 1 is honoured")
	require.GreaterOrEqual(t, counter(t, e.app.Registry, "accord_rate_limited_total",
		map[string]string{"tenant": tenantID, "provider": "incidents"}), 1.0)
	require.Empty(t, e.recordErrors(), "a 429 is a wait, not a failure")
	e.barrier()
	require.Len(t, e.incidentsFor(tk.ID), 1)
}

func testPermissionRemoved(t *testing.T, e *env) {
	e.incidents.RevokeScope(incidentsToken, sim.ScopeIncidentsWrite)
	tk := e.escalate("No permission", "med", "")

	var re api.RecordError
	require.Eventually(t, func() bool {
		for _, r := range e.recordErrors() {
			if r.SourceID == tk.ID {
				re = r
				return true
			}
		}
		return false
	}, waitFor, 20*time.Millisecond, "a record error is filed")
	require.Equal(t, "permission", re.Class)
	require.Equal(t, "open", re.Status)
	require.Contains(t, re.Remediation, "scope incidents.write was removed")
	require.Contains(t, re.Remediation, "grant it")
	require.Equal(t, "missing_scopes", e.connectionState(e.incidentsConn))
	// The chat message does not depend on the incidents connection.
	require.Eventually(t, func() bool { return len(messagesAbout(e, tk.URL)) == 1 }, waitFor, 10*time.Millisecond)
	require.Empty(t, e.incidentsFor(tk.ID))

	// The admin restores the scope, then retries: the paused write happens.
	e.incidents.GrantScope(incidentsToken, sim.ScopeIncidentsWrite)
	retried, err := e.api().RetryRecordError(t.Context(), tenantID, re.ID)
	require.NoError(t, err)
	require.Equal(t, "retrying", retried.Status)

	e.waitIncident(tk.ID)
	require.Eventually(t, func() bool {
		got, err := e.api().GetRecordError(t.Context(), tenantID, re.ID)
		require.NoError(t, err)
		return got.Status == "resolved"
	}, waitFor, 20*time.Millisecond, "the record error is resolved")
	require.Equal(t, "active", e.connectionState(e.incidentsConn))
	e.barrier()
	require.Len(t, e.incidentsFor(tk.ID), 1)
	require.Len(t, messagesAbout(e, tk.URL), 1)
}

func testValidation(t *testing.T, e *env) {
	// On the create: a refused lookup is the manifest's problem, not the record's.
	require.NoError(t, e.incidents.Inject(sim.Fault{Kind: sim.FaultUnprocessable, Message: "title is required", Method: http.MethodPost}))
	tk := e.escalate("Rejected", "low", "")

	var re api.RecordError
	require.Eventually(t, func() bool {
		for _, r := range e.recordErrors() {
			if r.SourceID == tk.ID {
				re = r
				return true
			}
		}
		return false
	}, waitFor, 20*time.Millisecond)
	require.Equal(t, "validation", re.Class)
	require.Equal(t, "create (POST /v1/incidents) answered 422: title is required", re.Message, "the failing call and the partner's message")
	require.Contains(t, re.Remediation, "Field title is required")
	require.Contains(t, re.Remediation, "set a default")
	require.Equal(t, "active", e.connectionState(e.incidentsConn), "a bad record does not pause the connection")
	e.barrier()
	require.Empty(t, e.incidentsFor(tk.ID))
}

func testServerErrorThenSuccess(t *testing.T, e *env) {
	require.NoError(t, e.incidents.Inject(sim.Fault{Kind: sim.FaultServerError, Count: 2}))
	tk := e.escalate("Flaky partner", "high", "")
	e.waitIncident(tk.ID)
	e.barrier()
	require.Len(t, e.incidentsFor(tk.ID), 1)
	var failed int
	for _, c := range e.incidentCalls.all() {
		if c.Status == http.StatusServiceUnavailable {
			failed++
		}
	}
	require.Equal(t, 2, failed)
	require.GreaterOrEqual(t, counter(t, e.app.Registry, "accord_action_retries_total", map[string]string{"reason": "retried"}), 1.0)
	require.Empty(t, e.recordErrors())
}

func testLargePayloads(t *testing.T, e *env) {
	// Over the helpdesk's 1 MiB limit: refused before anything is stored.
	require.NoError(t, e.helpdesk.Inject(sim.Fault{Kind: sim.FaultOversized, Webhook: true, Size: 2 << 20}))
	_, err := e.helpdesk.CreateTicket(sim.Ticket{Title: "Padded"})
	require.NoError(t, err)
	ds := e.waitDeliveries(1)
	require.False(t, ds[0].OK)
	require.Equal(t, http.StatusRequestEntityTooLarge, ds[0].Status)
	require.GreaterOrEqual(t, counter(t, e.app.Registry, "accord_webhooks_received_total", map[string]string{"outcome": "too_large"}), 1.0)

	// Under it: a long description arrives at the incident byte for byte.
	long := strings.Repeat("The customer pasted the whole log. ", 500<<10/35)
	require.Greater(t, len(long), 490<<10)
	tk := e.escalate("Long report", "med", long)
	in := e.waitIncident(tk.ID)
	require.Equal(t, len(long), len(in.Description))
	require.True(t, in.Description == long, "the description is delivered intact")
}

func testSignatures(t *testing.T, e *env) {
	scheme, err := signature.New("standard-webhooks", signature.Options{})
	require.NoError(t, err)
	now := time.Now()
	body, err := json.Marshal(map[string]any{
		"id": "evt_forged", "type": "ticket.updated", "timestamp": now.UTC(),
		"data": map[string]any{"id": "T-999", "title": "Forged", "priority": "high", "status": "escalated",
			"url": "http://example.invalid/T-999", "version": 2},
	})
	require.NoError(t, err)
	send := func(secret string, at time.Time) int {
		h, err := scheme.Sign(body, []byte(secret), at, "evt_forged")
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/hooks/"+e.helpdeskConn, bytes.NewReader(body))
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	require.Equal(t, http.StatusUnauthorized, send("not-the-secret-at-all-0123456789", now), "wrong secret")
	require.Equal(t, http.StatusUnauthorized, send(webhookSecret, now.Add(-10*time.Minute)), "replayed: outside the 5m tolerance")
	e.barrier()
	require.Empty(t, e.incidentsFor("T-999"))
	require.Equal(t, 2.0, counter(t, e.app.Registry, "accord_webhooks_received_total", map[string]string{"outcome": "bad_signature"}))

	// The same body, properly signed, is accepted: the refusals above were
	// the signature's doing, not the body's.
	require.Equal(t, http.StatusAccepted, send(webhookSecret, time.Now()))
	e.waitIncident("T-999")
}

// messagesAbout returns the escalation channel's messages that link url.
func messagesAbout(e *env, url string) []sim.Message {
	var out []sim.Message
	for _, m := range e.chat.Messages(chatChannel) {
		if strings.HasSuffix(m.Text, " "+url) {
			out = append(out, m)
		}
	}
	return out
}

// waitDeliveries waits until the helpdesk has finished n webhook
// deliveries and returns them in the order they finished.
func (e *env) waitDeliveries(n int) []sim.Delivery {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), waitFor)
	defer cancel()
	ds, err := e.helpdesk.WaitDeliveries(ctx, n)
	require.NoError(e.t, err, "deliveries so far: %+v", ds)
	return ds
}

func testSecretRotation(t *testing.T, e *env) {
	scheme, err := signature.New("standard-webhooks", signature.Options{})
	require.NoError(t, err)
	n := 0
	send := func(secret string) int {
		n++
		id := fmt.Sprintf("evt_rot_%d", n)
		body, err := json.Marshal(map[string]any{"id": id, "type": "ticket.updated", "timestamp": time.Now().UTC(),
			"data": map[string]any{"id": "T-rot", "title": "Rotation", "status": "open", "url": "http://example.invalid/T-rot", "version": n}})
		require.NoError(t, err)
		h, err := scheme.Sign(body, []byte(secret), time.Now(), id)
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/hooks/"+e.helpdeskConn, bytes.NewReader(body))
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	call := func(method, path, body string) int {
		req, err := http.NewRequestWithContext(t.Context(), method, e.url+"/api/v1/tenants/"+tenantID+"/connections/"+e.helpdeskConn+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	const next = "the-next-webhook-secret-0123456789"
	require.Equal(t, http.StatusOK, call(http.MethodPut, "/webhook-secret", `{"secret":"`+next+`"}`))
	// Ingress caches connections for a few seconds: wait for the change.
	require.Eventually(t, func() bool { return send(next) == http.StatusAccepted }, waitFor, 100*time.Millisecond, "the new secret is accepted")
	require.Equal(t, http.StatusAccepted, send(webhookSecret), "the previous secret still is, while the partner switches")

	require.Equal(t, http.StatusOK, call(http.MethodDelete, "/webhook-secret/previous", ""))
	require.Eventually(t, func() bool { return send(webhookSecret) == http.StatusUnauthorized }, waitFor, 100*time.Millisecond, "retired")
	require.Equal(t, http.StatusAccepted, send(next))
	require.Equal(t, http.StatusBadRequest, call(http.MethodPut, "/webhook-secret", `{"secret":""}`))
}
