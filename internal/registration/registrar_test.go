package registration

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/spec"
)

func TestEventsAreTheContractsWebhookTriggersOfTheProvider(t *testing.T) {
	t.Parallel()
	c := &spec.Contract{Triggers: map[string]*spec.Trigger{
		"b": {Webhook: &spec.WebhookTrigger{Provider: "helpdesk", Events: []string{"ticket.updated", "ticket.created"}}},
		"a": {Webhook: &spec.WebhookTrigger{Provider: "helpdesk", Events: []string{"ticket.updated"}}},
		"c": {Webhook: &spec.WebhookTrigger{Provider: "billing", Events: []string{"invoice.paid"}}},
		"d": {Schedule: &spec.ScheduleTrigger{Provider: "helpdesk", Object: "ticket"}},
	}}
	require.Equal(t, []string{"ticket.created", "ticket.updated"}, Events(c, "helpdesk"))
	require.Empty(t, Events(c, "chat"))
}

func TestManualMeansASecretWithoutRegistration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		extra  map[string]string
		manual bool
	}{
		{"nothing yet", nil, false},
		{"secret given by hand", map[string]string{credential.ExtraWebhookSecret: "s"}, true},
		{"registered", map[string]string{credential.ExtraWebhookSecret: "s", credential.ExtraWebhookSubscription: "wh_1"}, false},
		{"create pending", map[string]string{credential.ExtraWebhookSecret: "s", credential.ExtraWebhookPending: "1"}, false},
	} {
		require.Equal(t, tc.manual, readState(tc.extra).manual(), tc.name)
	}
}

func TestErrorSaysWhatToDo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&connector.PartnerError{Class: spec.ClassAuth, Status: 401}, "helpdesk refused the connection's credentials: reconnect it"},
		{&connector.PartnerError{Class: spec.ClassPermission, Status: 403}, "may not manage webhooks at helpdesk: grant it that permission"},
		{&connector.PartnerError{Class: spec.ClassTransient, Status: 503}, "helpdesk is unavailable or rate limiting: try again in a moment"},
		{&connector.PartnerError{Class: spec.ClassValidation, Status: 422}, "check webhooks.registration in its manifest, and that https://a/hooks/c1 is a URL the partner accepts"},
		{context.DeadlineExceeded, "try again"},
	} {
		e := &Error{Provider: "helpdesk", ConnectionID: "c1", Step: "creating the subscription", URL: "https://a/hooks/c1",
			Retryable: connector.IsRetryable(tc.err), Err: tc.err}
		require.Contains(t, e.Error(), tc.want)
		require.Contains(t, e.Error(), "webhook registration of helpdesk connection c1: creating the subscription")
		require.True(t, errors.Is(e, tc.err))
	}
}
