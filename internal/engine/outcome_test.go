package engine_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

func (tb *testBundle) deliverOutcome(t *testing.T, args engine.DeliverArgs) string {
	t.Helper()
	outcome, err := tb.engine.DeliverOutcomeForTest(t.Context(), args)
	require.NoError(t, err)
	return outcome
}

// An event whose version equals the watermark used to be answered 2xx and
// then silently never applied. Equal versions apply in receipt order.
func TestEqualVersionAppliesInReceiptOrder(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{editContract: upsertIncidents("")})

		require.Equal(t, "applied", tb.deliverOutcome(t, tb.event(t, escalated("T-1", 4, "Checkout slow", "low"))))
		tb.clock.Advance(time.Millisecond)
		second := tb.event(t, escalated("T-1", 4, "Checkout down", "high"))
		require.Equal(t, "applied", tb.deliverOutcome(t, second), "same version, received later: last writer wins")

		inc := tb.onlyIncident(t)
		require.Equal(t, "Checkout down", inc.Title)
		link, err := tb.incidentLink(t, "T-1")
		require.NoError(t, err)
		require.Equal(t, second.EventID, link.EventID)
		require.EqualValues(t, 2, tb.events(t, "applied"))
	})
}

// With no object_version configured every update after the create was
// dropped. Without versions, events apply in receipt order per object.
func TestEventsWithoutVersionApplyInReceiptOrder(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{editContract: upsertIncidents("")})

		var last engine.DeliverArgs
		for _, title := range []string{"one", "two", "three"} {
			last = tb.event(t, escalated("T-1", 0, title, "high"))
			require.Equal(t, "applied", tb.deliverOutcome(t, last), title)
			tb.clock.Advance(time.Second)
		}
		require.Equal(t, "three", tb.onlyIncident(t).Title, "every change applied, the last received wins")

		// Received earlier, delivered later: stale, not an overwrite.
		early := tb.event(t, escalated("T-2", 0, "early", "high"))
		tb.clock.Advance(time.Second)
		late := tb.event(t, escalated("T-2", 0, "late", "high"))
		require.Equal(t, "applied", tb.deliverOutcome(t, late))
		require.Equal(t, "stale", tb.deliverOutcome(t, early))
		link, err := tb.incidentLink(t, "T-2")
		require.NoError(t, err)
		require.Equal(t, late.EventID, link.EventID)
	})
}

// Every accepted event ends in exactly one final outcome, counted once and
// returned for the event row, whatever happened to it.
func TestEveryEventHasOneFinalOutcome(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{editContract: upsertIncidents("")})

		// filtered: the trigger's condition is false.
		open := escalated("T-1", 1, "Checkout slow", "low")
		open.Status = "open"
		require.Equal(t, "filtered", tb.deliverOutcome(t, tb.event(t, open)))

		// applied, then the job re-run: applied again, nothing written twice,
		// counted once more for the re-run's event only.
		args := tb.event(t, escalated("T-1", 2, "Checkout down", "high"))
		require.Equal(t, "applied", tb.deliverOutcome(t, args))
		require.Equal(t, "applied", tb.deliverOutcome(t, args), "a re-run finds its own write")
		require.Len(t, tb.front.writes(), 1)

		// stale: an older version after a newer one.
		require.Equal(t, "stale", tb.deliverOutcome(t, tb.event(t, escalated("T-1", 1, "Checkout slow", "low"))))

		// failed: a record error for the bad row (blank title), with the
		// other action applied the event still counts as applied.
		require.Equal(t, "applied", tb.deliverOutcome(t, tb.event(t, escalated("T-9", 1, "   ", "high"))))
		require.Len(t, tb.recordErrors(t), 1)

		// no_installation: nothing listens on this connection.
		require.NoError(t, tb.store.CreateConnection(t.Context(), store.Connection{
			TenantID: tb.tenantID, ID: "conn_helpdesk_2", Provider: "helpdesk", State: store.ConnectionActive, Secret: []byte("sealed"),
		}))
		require.Equal(t, "no_installation", tb.deliverOutcome(t, tb.eventOn(t, "conn_helpdesk_2", escalated("T-3", 1, "x", "high"))))

		require.EqualValues(t, 1, tb.events(t, "filtered"))
		require.EqualValues(t, 3, tb.events(t, "applied"))
		require.EqualValues(t, 1, tb.events(t, "stale"))
		require.EqualValues(t, 1, tb.events(t, "no_installation"))
		require.EqualValues(t, 1, tb.actions(t, "incidents", "failed"))
		require.EqualValues(t, 1, tb.actions(t, "incidents", "stale"))
		require.EqualValues(t, 1, tb.actions(t, "chat", "stale"))
	})
}

// panickyCredentials panics for one provider, as a bug in an action's path
// would.
type panickyCredentials struct{ provider string }

func (p panickyCredentials) Authorizer(_ context.Context, _ store.Connection, pr *spec.Provider) (connector.Authorizer, error) {
	if pr.Name == p.provider {
		panic("boom: " + strings.ToUpper(pr.Name))
	}
	return connector.Bearer{Token: simToken}, nil
}

// A panic in an action used to kill the process on the fast path. It is a
// record error for that action; the other action and later events go on.
func TestPanicInAnActionIsARecordError(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{credentials: func(*testBundle) engine.Credentials { return panickyCredentials{provider: "incidents"} }})

		require.Equal(t, "applied", tb.deliverOutcome(t, tb.event(t, escalated("T-1", 1, "Checkout down", "high"))))
		require.Len(t, tb.chat.Messages("escalations"), 1)
		errs := tb.recordErrors(t)
		require.Len(t, errs, 1)
		require.Contains(t, errs[0].Message, "internal error while running action create_incident")
		require.EqualValues(t, 1, tb.counter(t, "accord_delivery_panics_total", nil))

		require.Equal(t, "applied", tb.deliverOutcome(t, tb.event(t, escalated("T-2", 1, "Search down", "high"))), "the next event is served")
	})
}

// Two actions of one trigger creating the same kind of partner object (a
// message to two channels) used to share one link: the second was counted
// skipped and never ran.
func TestTwoActionsOnTheSameTargetKindBothRun(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{editContract: func(t *testing.T, yaml string) string {
			return yaml + `  - name: notify_oncall
    trigger: ticket_escalated
    provider: chat
    object: message
    op: create
    mapping:
      - to: channel
        default: oncall
      - to: text
        expr: '"Paging: " + ticket.title'
`
		}})
		args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))
		require.Equal(t, "applied", tb.deliverOutcome(t, args))
		require.Len(t, tb.chat.Messages("escalations"), 1)
		require.Len(t, tb.chat.Messages("oncall"), 1, "the second action on chat.message ran")
		require.EqualValues(t, 2, tb.actions(t, "chat", "applied"), "each action's outcome, once")

		require.Equal(t, "applied", tb.deliverOutcome(t, args), "re-run")
		require.Equal(t, "applied", tb.deliverOutcome(t, tb.event(t, escalated("T-1", 1, "Checkout down", "high"))), "redelivered under a new id")
		require.Len(t, tb.chat.Messages("escalations"), 1, "still one per action")
		require.Len(t, tb.chat.Messages("oncall"), 1, "still one per action")
	})
}

// A link written before links were keyed by action (action "") is adopted
// by the first action writing that kind of object: an upgrade creates no
// duplicate incident.
func TestLinkFromBeforeActionKeysIsAdopted(t *testing.T) {
	t.Parallel()
	tb := setupWith(t, setupOpts{editContract: upsertIncidents("")})
	require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout slow", "low"))))
	inc := tb.onlyIncident(t)
	link, err := tb.incidentLink(t, "T-1")
	require.NoError(t, err)
	legacy := link
	legacy.Action = ""
	legacy.EventID, legacy.EventAt = "", 0
	require.NoError(t, tb.store.UpsertLink(t.Context(), legacy))
	require.NoError(t, tb.store.InTx(t.Context(), func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Driver().(interface {
			ExecContext(context.Context, string, ...any) (sql.Result, error)
		}).ExecContext(ctx, `DELETE FROM links WHERE action = 'create_incident'`)
		return err
	}))
	_, err = tb.incidentLink(t, "T-1")
	require.ErrorIs(t, err, store.ErrNotFound)

	require.Equal(t, "applied", tb.deliverOutcome(t, tb.event(t, escalated("T-1", 2, "Checkout down", "high"))))
	require.Equal(t, 1, tb.incidents.Count(), "the legacy link was found: no second incident")
	require.Equal(t, "Checkout down", tb.onlyIncident(t).Title)
	link, err = tb.incidentLink(t, "T-1")
	require.NoError(t, err, "now stored under the action")
	require.Equal(t, inc.ID, link.TargetID)
}
