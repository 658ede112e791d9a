package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/notify"
	"github.com/accordhq/accord/internal/uninstall"
	"github.com/accordhq/accord/internal/web/api"
)

// TestClientLifecycleCalls: the client's catalog, uninstall, notification
// and REST hook calls against the API.
func TestClientLifecycleCalls(t *testing.T) {
	t.Parallel()
	b := setupClientWith(t, func(d *api.Deps) {
		n, err := notify.New(d.Store, manyQueue{d.Queue.(*recordingQueue)}, d.Vault, nil, nil)
		require.NoError(t, err)
		d.Notifier = n
		u, err := uninstall.New(d.Store, cancellingQueue{d.Queue.(*recordingQueue)}, lifecycleDisconnector{connection.New(d.Store, nil)}, nil)
		require.NoError(t, err)
		d.Uninstaller = u
	})
	ctx := t.Context()
	cat, err := b.client.Catalog(ctx)
	require.NoError(t, err)
	require.Len(t, cat, 1)
	require.Equal(t, "escalation", cat[0].Name)

	ep, err := b.client.CreateNotificationEndpoint(ctx, "acme", "https://host.example/n", nil)
	require.NoError(t, err)
	require.NotEmpty(t, ep.Secret)
	hook, err := b.client.SubscribeHook(ctx, "acme", "https://hooks.example/z", notify.RecordErrorOpened)
	require.NoError(t, err)
	require.NoError(t, b.client.UnsubscribeHook(ctx, "acme", hook.ID))
	require.Error(t, b.client.UnsubscribeHook(ctx, "acme", hook.ID))

	inst, _ := b.install(t)
	u, err := b.client.Uninstall(ctx, "acme", inst.ID)
	require.NoError(t, err)
	require.Equal(t, uninstall.StepStopIntake, u.NextStep)
	got, err := b.client.GetUninstall(ctx, "acme", inst.ID)
	require.NoError(t, err)
	require.Equal(t, "running", got.State)
}
