package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/notify"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/dbtest"
)

var quiet = slog.New(slog.DiscardHandler)

// eachDB runs fn on every store (dbtest.Each).
func eachDB(t *testing.T, fn func(t *testing.T, st store.Store)) { dbtest.Each(t, fn) }

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is the host product's endpoint: it answers with the statuses
// queued in fail (then 204) and keeps what it got.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
	fail []int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.fail) > 0 {
			status := r.fail[0]
			r.fail = r.fail[1:]
			w.WriteHeader(status)
			return
		}
		r.got = append(r.got, received{header: req.Header.Clone(), body: body})
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// types returns the event types received, verifying each with secret.
func (r *receiver) types(t *testing.T, secret string) []string {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	var out []string
	for _, m := range r.messages() {
		require.NoError(t, wh.Verify(m.body, m.header), "signed with the endpoint's secret")
		var msg struct {
			Type string `json:"type"`
		}
		require.NoError(t, json.Unmarshal(m.body, &msg))
		out = append(out, msg.Type)
	}
	return out
}

type bundle struct {
	st store.Store // observed
	n  *notify.Notifier
	q  *queue.Queue
}

// setup observes st, runs a queue with the delivery worker and the relay,
// and stores tenant acme with a connection and an installation.
func setup(t *testing.T, raw store.Store) *bundle {
	t.Helper()
	ctx := context.Background()
	sig := notify.NewSignal()
	st := notify.Observe(raw, sig, nil)
	mk, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	key, err := credential.ParseMasterKey(mk)
	require.NoError(t, err)
	kms, err := credential.NewLocalKMS(key)
	require.NoError(t, err)
	vault, err := credential.NewVault(st, kms, nil)
	require.NoError(t, err)
	b := &bundle{st: st}
	reg := queue.NewRegistry()
	b.n, err = notify.New(st, lateQueue{&b.q}, vault, sig, &notify.Config{
		Outbound: &connector.Config{AllowLoopback: true}, MaxAttempts: 3, RelayInterval: 50 * time.Millisecond, Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, b.n.Register(reg))
	b.q, err = queue.New(st, reg, &queue.Config{Workers: true, MaxWorkers: 4, Logger: quiet,
		RetryPolicy: &queue.Backoff{Base: 10 * time.Millisecond, Max: 10 * time.Millisecond}})
	require.NoError(t, err)
	require.NoError(t, b.q.Migrate(ctx))
	require.NoError(t, b.q.Start(ctx))
	require.NoError(t, b.n.Start(ctx))
	t.Cleanup(func() {
		b.n.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.q.Stop(ctx)
	})
	require.NoError(t, st.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme"}))
	require.NoError(t, st.CreateConnection(ctx, store.Connection{TenantID: "acme", ID: "conn1", Provider: "helpdesk", State: store.ConnectionActive}))
	require.NoError(t, st.CreateInstallation(ctx, store.Installation{TenantID: "acme", ID: "inst1", Contract: "escalation",
		ContractVersion: "1.0.0", State: store.InstallationActive, Connections: map[string]string{"helpdesk": "conn1"}}))
	return b
}

type lateQueue struct{ q **queue.Queue }

func (l lateQueue) InsertManyTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) ([]int64, error) {
	return (*l.q).InsertManyTx(ctx, tx, params)
}

// changeEverything makes one change of each kind, each through the code
// that owns it: the connection lifecycle, the store for the others.
func changeEverything(t *testing.T, b *bundle) {
	t.Helper()
	ctx := context.Background()
	life := connection.New(b.st, nil)
	_, _, err := life.Pause(ctx, "acme", "conn1", store.ConnectionNeedsReconnect, "token revoked", connection.Entry{}, nil)
	require.NoError(t, err)
	require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationPaused))
	require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationActive))
	require.NoError(t, b.st.InsertRecordError(ctx, store.RecordError{TenantID: "acme", ID: "re1", InstallationID: "inst1",
		Object: "ticket", Class: "validation", Message: "email a@b.c is invalid", Status: store.RecordErrorOpen}))
	require.NoError(t, b.st.SetRecordErrorStatus(ctx, "acme", "re1", store.RecordErrorResolved))
}

var allChanges = []string{notify.ConnectionStateChanged, notify.InstallationPaused, notify.InstallationResumed,
	notify.RecordErrorOpened, notify.RecordErrorResolved}

// TestNotificationsAreSignedAndDelivered: every change reaches the
// endpoint once, signed with its secret (verified with the Standard
// Webhooks library), without record data; an endpoint that asked for one
// type gets only that type; the delivery log says delivered.
func TestNotificationsAreSignedAndDelivered(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, raw store.Store) {
		ctx := context.Background()
		b := setup(t, raw)
		all, only := newReceiver(t), newReceiver(t)
		epAll, secretAll, err := b.n.CreateEndpoint(ctx, "acme", store.NotifyWebhook, all.srv.URL+"/hooks", nil, "alice")
		require.NoError(t, err)
		_, secretOnly, err := b.n.CreateEndpoint(ctx, "acme", store.NotifyWebhook, only.srv.URL, []string{notify.RecordErrorOpened}, "alice")
		require.NoError(t, err)
		_, _, err = b.n.CreateEndpoint(ctx, "acme", store.NotifyWebhook, "ftp://x", nil, "alice")
		require.ErrorIs(t, err, notify.ErrBadEndpoint)

		changeEverything(t, b)
		require.Eventually(t, func() bool { return len(all.messages()) == len(allChanges) && len(only.messages()) == 1 },
			10*time.Second, 10*time.Millisecond)
		require.ElementsMatch(t, allChanges, all.types(t, secretAll))
		require.Equal(t, []string{notify.RecordErrorOpened}, only.types(t, secretOnly))
		for _, m := range all.messages() {
			require.NotContains(t, string(m.body), "a@b.c", "no record data in notifications")
		}
		wh, err := standardwebhooks.NewWebhook(secretAll)
		require.NoError(t, err)
		require.Error(t, wh.Verify(only.messages()[0].body, only.messages()[0].header), "each endpoint has its own secret")

		log := waitDelivered(t, b, epAll.ID, len(allChanges))
		for _, d := range log {
			require.Equal(t, store.NotifyDelivered, d.State)
			require.Equal(t, 1, d.Attempts)
			require.Equal(t, http.StatusNoContent, d.LastStatus)
		}
	})
}

// TestNotificationsRetryAndRotate: a failing endpoint is retried with
// backoff until it answers; after a rotation both secrets verify during
// the grace period; attempts exhausted mark the delivery failed.
func TestNotificationsRetryAndRotate(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, raw store.Store) {
		ctx := context.Background()
		b := setup(t, raw)
		r := newReceiver(t)
		r.fail = []int{500, 503}
		ep, oldSecret, err := b.n.CreateEndpoint(ctx, "acme", store.NotifyWebhook, r.srv.URL, []string{notify.InstallationPaused}, "alice")
		require.NoError(t, err)
		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationPaused))
		require.Eventually(t, func() bool { return len(r.messages()) == 1 }, 10*time.Second, 10*time.Millisecond)
		log := waitDelivered(t, b, ep.ID, 1)
		require.Equal(t, 3, log[0].Attempts, "two failures, then delivered")
		require.Equal(t, store.NotifyDelivered, log[0].State)

		newSecret, err := b.n.RotateSecret(ctx, "acme", ep.ID, "alice")
		require.NoError(t, err)
		require.NotEqual(t, oldSecret, newSecret)
		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationActive))
		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationPaused))
		require.Eventually(t, func() bool { return len(r.messages()) == 2 }, 10*time.Second, 10*time.Millisecond)
		m := r.messages()[1]
		for _, s := range []string{oldSecret, newSecret} {
			wh, err := standardwebhooks.NewWebhook(s)
			require.NoError(t, err)
			require.NoError(t, wh.Verify(m.body, m.header), "both secrets sign during the grace period")
		}

		r.mu.Lock()
		r.fail = []int{500, 500, 500}
		r.mu.Unlock()
		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationActive))
		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationPaused))
		require.Eventually(t, func() bool {
			log, err := b.st.ListNotifyDeliveries(ctx, "acme", ep.ID, 1)
			return err == nil && len(log) == 1 && log[0].State == store.NotifyFailed
		}, 10*time.Second, 10*time.Millisecond, "attempts exhausted")
		log, err = b.st.ListNotifyDeliveries(ctx, "acme", ep.ID, 1)
		require.NoError(t, err)
		require.Equal(t, 3, log[0].Attempts)
		require.Equal(t, 500, log[0].LastStatus)
	})
}

// TestRESTHookStopsAfterUnsubscribe: a subscription receives its event
// type only, and nothing after it is deleted; a target answering 410 is
// unsubscribed.
func TestRESTHookStopsAfterUnsubscribe(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, raw store.Store) {
		ctx := context.Background()
		b := setup(t, raw)
		r := newReceiver(t)
		hook, _, err := b.n.CreateEndpoint(ctx, "acme", store.NotifyRESTHook, r.srv.URL, []string{notify.InstallationPaused}, "zapier")
		require.NoError(t, err)
		_, _, err = b.n.CreateEndpoint(ctx, "acme", store.NotifyRESTHook, r.srv.URL, nil, "zapier")
		require.ErrorIs(t, err, notify.ErrBadEndpoint, "one event type per REST hook")

		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationPaused))
		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationActive))
		require.Eventually(t, func() bool { return len(r.messages()) == 1 }, 10*time.Second, 10*time.Millisecond)

		require.NoError(t, b.n.DeleteEndpoint(ctx, "acme", hook.ID, "zapier"))
		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationPaused))
		sentinel, _, err := b.n.CreateEndpoint(ctx, "acme", store.NotifyWebhook, r.srv.URL+"/sentinel", []string{notify.InstallationResumed}, "x")
		require.NoError(t, err)
		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationActive))
		require.Eventually(t, func() bool { return len(r.messages()) == 2 }, 10*time.Second, 10*time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		require.Len(t, r.messages(), 2, "the pause after unsubscribing was not sent")
		require.NoError(t, b.n.DeleteEndpoint(ctx, "acme", sentinel.ID, "x"))

		// The iPaaS side removed the hook: 410 unsubscribes it.
		hook, _, err = b.n.CreateEndpoint(ctx, "acme", store.NotifyRESTHook, r.srv.URL, []string{notify.InstallationPaused}, "zapier")
		require.NoError(t, err)
		r.mu.Lock()
		r.fail = []int{http.StatusGone}
		r.mu.Unlock()
		require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst1", store.InstallationPaused))
		require.Eventually(t, func() bool {
			_, err := b.st.GetNotifyEndpoint(ctx, "acme", hook.ID)
			return err != nil
		}, 10*time.Second, 10*time.Millisecond)
	})
}

// TestNoEndpointNoDelivery: without endpoints a change writes nothing
// more, and a rolled-back change notifies nobody.
func TestNoEndpointNoDelivery(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, raw store.Store) {
		ctx := context.Background()
		b := setup(t, raw)
		r := newReceiver(t)
		ep, _, err := b.n.CreateEndpoint(ctx, "acme", store.NotifyWebhook, r.srv.URL, nil, "alice")
		require.NoError(t, err)
		boom := errors.New("rolled back")
		err = b.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			require.NoError(t, tx.SetInstallationState(ctx, "acme", "inst1", store.InstallationPaused))
			return boom
		})
		require.ErrorIs(t, err, boom)
		n, err := b.n.Relay(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		log, err := b.st.ListNotifyDeliveries(ctx, "acme", ep.ID, 0)
		require.NoError(t, err)
		require.Empty(t, log, "a change that did not commit is not notified")
	})
}

// waitDelivered waits until the endpoint's log holds n delivered
// deliveries and returns it.
func waitDelivered(t *testing.T, b *bundle, endpointID string, n int) []store.NotifyDelivery {
	t.Helper()
	var log []store.NotifyDelivery
	require.Eventually(t, func() bool {
		var err error
		log, err = b.st.ListNotifyDeliveries(context.Background(), "acme", endpointID, 0)
		if err != nil || len(log) != n {
			return false
		}
		for _, d := range log {
			if d.State != store.NotifyDelivered {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
	return log
}
