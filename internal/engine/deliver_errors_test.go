package engine_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
)

func TestDeliverRateLimitedSnoozesForRetryAfter(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: 7 * time.Second}))

	args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))
	require.Equal(t, 7*time.Second, requireSnooze(t, tb.deliver(t, args)),
		"a snooze, which River does not count as an attempt, for exactly Retry-After")
	require.Zero(t, tb.incidents.Count())
	require.Len(t, tb.chat.Messages("escalations"), 1, "chat is not held back by the incident tool's limit")
	require.Empty(t, tb.recordErrors(t))
	require.EqualValues(t, 1, tb.retries(t, "incidents", "throttled"))
	require.Zero(t, tb.actions(t, "", "applied"), "no final outcome is counted while the event still waits")

	// Early: the tenant's bucket still honours the partner's Retry-After
	// without calling it.
	tb.clock.Advance(3 * time.Second)
	require.Equal(t, 4*time.Second, requireSnooze(t, tb.deliver(t, args)))
	require.Zero(t, tb.incidents.Count())

	tb.clock.Advance(4 * time.Second)
	require.NoError(t, tb.deliver(t, args))
	tb.onlyIncident(t)
	require.Len(t, tb.chat.Messages("escalations"), 1)
	require.Empty(t, tb.recordErrors(t))
}

func TestDeliverPartnerDownRetriesThenDeadLetters(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))

	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultServerError, Status: http.StatusBadGateway}))
	requireRetry(t, tb.deliver(t, args))
	require.Empty(t, tb.recordErrors(t), "inside the retry window nothing is dead-lettered")
	require.Len(t, tb.chat.Messages("escalations"), 1)

	tb.clock.Advance(23 * time.Hour)
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultServerError}))
	requireRetry(t, tb.deliver(t, args))
	require.Empty(t, tb.recordErrors(t))

	// The contract retries for 24h from receipt.
	tb.clock.Advance(time.Hour)
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultServerError}))
	require.NoError(t, tb.deliver(t, args), "dead-lettered: the job completes")

	errs := tb.recordErrors(t)
	require.Len(t, errs, 1)
	re := errs[0]
	require.Equal(t, engine.ClassPartnerDown, re.Class)
	require.Equal(t, store.RecordErrorOpen, re.Status)
	require.Equal(t, "T-1", re.SourceID)
	require.Equal(t, args.EventID, re.EventID)
	require.Contains(t, re.Message, "internal error")
	require.Contains(t, re.Remediation, "Incidents is failing or unreachable")
	require.Equal(t, engine.KindDeliver, re.JobKind)

	al := tb.waitAlert(t)
	require.Equal(t, engine.ClassPartnerDown, al.Class)
	require.Equal(t, tb.tenantID, al.TenantID)
	require.Equal(t, re.ID, al.RecordErrorID)
	require.Equal(t, re.Remediation, al.Remediation)
	require.Equal(t, "T-1", al.SourceID)
	require.EqualValues(t, 1, tb.counter(t, "accord_alerts_total", map[string]string{"tenant": tb.tenantID, "class": engine.ClassPartnerDown}))
	require.EqualValues(t, 1, tb.actions(t, "incidents", "failed"))
	require.EqualValues(t, 2, tb.retries(t, "incidents", "retried"))
	require.EqualValues(t, 1, tb.events(t, "applied"), "the chat message went out: the event applied, with a record error for the incident")

	require.Zero(t, tb.incidents.Count())
	require.Len(t, tb.chat.Messages("escalations"), 1, "the other action is not repeated")
}

func TestDeliverValidationErrorIsPermanent(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	// A blank title passes the mapping; the incident tool rejects it.
	err := tb.deliver(t, tb.event(t, escalated("T-1", 1, "   ", "high")))
	require.NoError(t, err, "a validation error completes the job: retrying cannot fix it")

	errs := tb.recordErrors(t)
	require.Len(t, errs, 1)
	require.Equal(t, engine.ClassValidation, errs[0].Class)
	require.Equal(t, "create (POST /v1/incidents) answered 422: title is required", errs[0].Message, "the failing call and the partner's own message")
	require.Contains(t, errs[0].Remediation, "Field title is required or invalid in Incidents")
	require.Zero(t, tb.incidents.Count())
	require.Len(t, tb.chat.Messages("escalations"), 1, "the other action still ran")
	require.EqualValues(t, 1, tb.actions(t, "incidents", "failed"))
	require.Equal(t, store.ConnectionActive, tb.connection(t, tb.incidentsConn).State, "not the account's fault")
}

func TestDeliverPermissionRemovedPausesConnection(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.incidents.RevokeScope(simToken, sim.ScopeIncidentsWrite)

	first := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))
	require.Equal(t, pauseInterval, requireSnooze(t, tb.deliver(t, first)), "paused, not failed")

	conn := tb.connection(t, tb.incidentsConn)
	require.Equal(t, store.ConnectionMissingScopes, conn.State)
	require.Contains(t, conn.StateReason, "scope incidents.write was removed")
	errs := tb.recordErrors(t)
	require.Len(t, errs, 1)
	require.Equal(t, engine.ClassPermission, errs[0].Class)
	require.Contains(t, errs[0].Remediation, "scope incidents.write was removed")
	require.Contains(t, errs[0].Remediation, "Reconnect")
	require.Equal(t, engine.ClassPermission, tb.waitAlert(t).Class)

	// Another ticket on the same connection waits too, without a second
	// record error or alert.
	second := tb.event(t, escalated("T-2", 1, "Search down", "med"))
	require.Equal(t, pauseInterval, requireSnooze(t, tb.deliver(t, second)))
	require.Equal(t, pauseInterval, requireSnooze(t, tb.deliver(t, first)))
	require.Len(t, tb.recordErrors(t), 1)
	require.EqualValues(t, 1, tb.counter(t, "accord_alerts_total", map[string]string{"class": engine.ClassPermission}))
	require.Len(t, tb.front.writes(), 1, "a paused connection is not called")
	require.Len(t, tb.chat.Messages("escalations"), 2, "chat's connection is unaffected")

	// Nothing was lost: after the scope is granted and the account
	// reconnected, both tickets go through.
	tb.incidents.GrantScope(simToken, sim.ScopeIncidentsWrite)
	conn.State, conn.StateReason = store.ConnectionActive, ""
	require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))
	require.NoError(t, tb.deliver(t, first))
	require.NoError(t, tb.deliver(t, second))
	require.Equal(t, 2, tb.incidents.Count())
	require.Len(t, tb.chat.Messages("escalations"), 2)
}

func TestDeliverPermissionRemovedFilesOneRecordErrorUnderConcurrency(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.incidents.RevokeScope(simToken, sim.ScopeIncidentsWrite)

	// Jobs for different tickets that all read the connection as active
	// before the first 403 paused it: one record error and one alert, not
	// one per job.
	const n = 8
	jobs := make([]engine.DeliverArgs, n)
	for i := range jobs {
		jobs[i] = tb.event(t, escalated("T-"+itoa(i), 1, "Outage "+itoa(i), "high"))
	}
	errs := make(chan error, n)
	for _, args := range jobs {
		go func() { errs <- tb.engine.DeliverForTest(t.Context(), args) }()
	}
	for range n {
		require.Equal(t, pauseInterval, requireSnooze(t, <-errs))
	}
	require.Equal(t, 1, len(tb.recordErrors(t)), "record errors")
	require.EqualValues(t, 1, tb.counter(t, "accord_alerts_total", map[string]string{"class": engine.ClassPermission}))
	require.Zero(t, tb.incidents.Count())
}

func TestDeliverUnauthorizedNeedsReconnect(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.incidents.RevokeToken(simToken)

	err := tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout down", "high")))
	require.Equal(t, pauseInterval, requireSnooze(t, err))

	conn := tb.connection(t, tb.incidentsConn)
	require.Equal(t, store.ConnectionNeedsReconnect, conn.State)
	require.Contains(t, conn.StateReason, "reconnect the account")
	errs := tb.recordErrors(t)
	require.Len(t, errs, 1)
	require.Equal(t, engine.ClassAuth, errs[0].Class)
	require.Contains(t, errs[0].Remediation, "Accord can no longer sign in to Incidents: reconnect the account")
	require.Equal(t, store.ConnectionActive, tb.connection(t, tb.chatConn).State)
}

func TestDeliverUpdateOfDeletedIncident(t *testing.T) {
	t.Parallel()

	t.Run("recreate", func(t *testing.T) {
		t.Parallel()
		tb := setupWith(t, setupOpts{editContract: upsertIncidents("")})
		require.NoError(t, tb.store.UpsertLink(t.Context(), deadLink(tb, "T-1")))

		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 2, "Checkout down", "high"))))

		inc := tb.onlyIncident(t)
		require.Equal(t, "Checkout down", inc.Title)
		link, err := tb.incidentLink(t, "T-1")
		require.NoError(t, err)
		require.Equal(t, inc.ID, link.TargetID, "the link follows the new incident")
		require.EqualValues(t, 2, link.Version)
		require.Empty(t, tb.recordErrors(t))
	})

	t.Run("fail", func(t *testing.T) {
		t.Parallel()
		tb := setupWith(t, setupOpts{editContract: upsertIncidents("fail")})
		require.NoError(t, tb.store.UpsertLink(t.Context(), deadLink(tb, "T-1")))

		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 2, "Checkout down", "high"))))

		require.Zero(t, tb.incidents.Count(), "on_missing: fail never recreates")
		errs := tb.recordErrors(t)
		require.Len(t, errs, 1)
		require.Equal(t, engine.ClassNotFound, errs[0].Class)
		require.Equal(t, "update (PATCH /v1/incidents/{id}) answered 404: incident not found", errs[0].Message)
		require.Contains(t, errs[0].Remediation, "no longer exists in Incidents")
		link, err := tb.incidentLink(t, "T-1")
		require.NoError(t, err)
		require.Equal(t, "inc_deleted", link.TargetID)
	})
}

// deadLink links ticketID at version 1 to an incident the partner no
// longer has.
func deadLink(tb *testBundle, ticketID string) store.Link {
	return store.Link{LinkKey: store.LinkKey{
		TenantID: tb.tenantID, InstallationID: tb.installation.ID, SourceObject: "ticket",
		SourceID: ticketID, TargetObject: "incidents.incident", Action: "create_incident",
	}, TargetID: "inc_deleted", Version: 1}
}

func TestDeliverRecreatesIncidentDeletedAfterCreate(t *testing.T) {
	t.Parallel()
	tb := setupWith(t, setupOpts{editContract: upsertIncidents("")})

	require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout slow", "low"))))
	first := tb.onlyIncident(t)
	// Someone deletes the incident at the partner. The partner still
	// remembers the create's idempotency key, as real ones do for a day.
	tb.front.delete(first.ID)
	unsetExternalID(t, tb, first.ID)

	require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 2, "Checkout down", "high"))))

	require.Empty(t, tb.recordErrors(t))
	require.Equal(t, 2, tb.incidents.Count(), "a new incident")
	link, err := tb.incidentLink(t, "T-1")
	require.NoError(t, err)
	require.NotEqual(t, first.ID, link.TargetID, "the link must not point at the deleted incident")
}

// unsetExternalID hides an incident from find_by_external_id.
func unsetExternalID(t *testing.T, tb *testBundle, id string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPatch, tb.incidentsURL+"/v1/incidents/"+id,
		jsonBody(t, map[string]any{"incident": map[string]any{"external_id": ""}}))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+simToken)
	// Straight to the simulator: the front answers 404 for a deleted id.
	rec := newRecorder()
	tb.incidents.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
}

func TestRetryOfRecordErrorResolvesIt(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultUnprocessable, Message: "severity is required", Method: http.MethodPost}))

	args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))
	require.NoError(t, tb.deliver(t, args))
	errs := tb.recordErrors(t)
	require.Len(t, errs, 1)
	require.Equal(t, engine.ClassValidation, errs[0].Class)
	require.Contains(t, errs[0].Remediation, "Field severity")

	// The admin fixed it and pressed retry.
	args.RecordErrorID = errs[0].ID
	require.NoError(t, tb.deliver(t, args))

	re, err := tb.store.GetRecordError(t.Context(), tb.tenantID, errs[0].ID)
	require.NoError(t, err)
	require.Equal(t, store.RecordErrorResolved, re.Status)
	require.Len(t, tb.recordErrors(t), 1, "no new record error")
	tb.onlyIncident(t)
	require.Len(t, tb.chat.Messages("escalations"), 1, "the retry does not repeat the message")
}

func TestRetryOfRecordErrorThatFailsAgainReopensIt(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	args := tb.event(t, escalated("T-1", 1, "   ", "high"))
	require.NoError(t, tb.deliver(t, args))
	errs := tb.recordErrors(t)
	require.Len(t, errs, 1)
	require.NoError(t, tb.store.SetRecordErrorStatus(t.Context(), tb.tenantID, errs[0].ID, store.RecordErrorRetrying))

	args.RecordErrorID = errs[0].ID
	require.NoError(t, tb.deliver(t, args))

	all := tb.recordErrors(t)
	require.Len(t, all, 1, "the same record error, not a second one")
	require.Equal(t, store.RecordErrorOpen, all[0].Status)
}

func TestDeliverRateLimitedPastRetryWindowDeadLetters(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))

	tb.clock.Advance(24 * time.Hour)
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: 7 * time.Second}))
	require.NoError(t, tb.deliver(t, args), "dead-lettered: the job completes")

	errs := tb.recordErrors(t)
	require.Len(t, errs, 1)
	require.Equal(t, engine.ClassRateLimit, errs[0].Class)
	require.Equal(t, engine.ClassRateLimit, tb.waitAlert(t).Class)
	// The job is done, so the admin must not read that Accord is still
	// retrying, let alone at the year 1.
	require.NotContains(t, errs[0].Remediation, "0001-01-01")
	require.NotContains(t, errs[0].Remediation, "No action needed")
}
