package registration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// ErrNotDeclared is returned for a connection whose provider declares no
// webhooks.registration: its webhooks are registered by hand.
var ErrNotDeclared = errors.New("registration: the provider declares no webhooks.registration")

// Deps are what a Registrar works with. All are required but Logger and
// OnChange.
type Deps struct {
	Store store.Store
	Vault *credential.Vault
	// Providers returns a loaded provider manifest.
	Providers func(name string) (*spec.Provider, bool)
	// Connector returns the provider's outbound client.
	Connector func(provider string) *connector.Connector
	// Authorizer authenticates calls as the connection.
	Authorizer func(ctx context.Context, conn store.Connection) (connector.Authorizer, error)
	// PublicURL returns the base URL partners reach Accord at, read at
	// call time (the listener's port is known only once it listens).
	PublicURL func() string
	// OnChange is called after a connection's secret changed, so ingress
	// reads the new webhook secret at once. Default: nothing.
	OnChange func(ctx context.Context, c store.Connection)
	// Logger; default slog.Default(). Secrets are never logged.
	Logger *slog.Logger
	// Teardown authenticates deleting the subscriptions of a connection
	// that is disconnected but still holds its credential
	// (oauth.Manager.TeardownAuthorizer). Nil: Authorizer.
	Teardown func(ctx context.Context, conn store.Connection) (connector.Authorizer, error)
	// Ender and Queue let Disconnect end a connection and finish what the
	// partner could not do at once in a job. Nil: Disconnect is refused.
	Ender Ender
	Queue Queue
	// Contract returns a loaded contract version, for the events a
	// reconnected connection is subscribed to again (Resubscribe). Nil:
	// Resubscribe does nothing.
	Contract func(name, version string) (*spec.Contract, bool)
}

// Registrar registers and deregisters connections' webhooks.
type Registrar struct {
	deps Deps
	life *connection.Lifecycle
	// mu serialises registrations: two installs over one connection at
	// once must not both create a subscription. Installs are rare, so one
	// lock for all connections costs nothing worth a keyed one.
	mu sync.Mutex
}

// New returns a Registrar.
func New(deps Deps) (*Registrar, error) {
	if deps.Store == nil || deps.Vault == nil || deps.Providers == nil || deps.Connector == nil || deps.Authorizer == nil || deps.PublicURL == nil {
		return nil, errors.New("registration: Store, Vault, Providers, Connector, Authorizer and PublicURL are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	return &Registrar{deps: deps, life: connection.New(deps.Store, &connection.Config{OnChange: deps.OnChange})}, nil
}

// Result says what Register did for one connection.
type Result struct {
	ConnectionID string `json:"connection_id"`
	Provider     string `json:"provider"`
	// SubscriptionID is the partner's id of the subscription; empty when
	// Manual.
	SubscriptionID string   `json:"subscription_id,omitempty"`
	Events         []string `json:"events,omitempty"`
	URL            string   `json:"url"`
	// Created is false when an existing subscription already covered the
	// events.
	Created bool `json:"created"`
	// Manual: the connection's webhook secret was given by hand, so its
	// webhooks are registered by hand too and Accord left them alone.
	Manual bool `json:"manual,omitempty"`
}

// Declared reports whether provider p lets Accord register webhooks.
func Declared(p *spec.Provider) bool {
	return p != nil && p.Webhooks != nil && p.Webhooks.Registration != nil
}

// Events returns the event types of provider the contract's webhook
// triggers listen to, sorted.
func Events(c *spec.Contract, provider string) []string {
	var out []string
	for _, name := range mapsKeys(c.Triggers) {
		tr := c.Triggers[name]
		if tr == nil || tr.Webhook == nil || tr.Webhook.Provider != provider {
			continue
		}
		out = append(out, tr.Webhook.Events...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func mapsKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// HookURL is the URL the partner sends the connection's webhooks to.
func (r *Registrar) HookURL(connID string) string {
	return strings.TrimRight(r.deps.PublicURL(), "/") + "/hooks/" + connID
}

// state is the registration kept in the connection's sealed secret.
type state struct {
	id, previous string
	events       []string
	pending      bool
	secret       string
}

func readState(extra map[string]string) state {
	s := state{id: extra[credential.ExtraWebhookSubscription], previous: extra[credential.ExtraWebhookSubscriptionPrevious],
		pending: extra[credential.ExtraWebhookPending] != "", secret: extra[credential.ExtraWebhookSecret]}
	if ev := extra[credential.ExtraWebhookEvents]; ev != "" {
		s.events = strings.Split(ev, ",")
	}
	return s
}

// manual reports whether an admin set the webhook secret: a secret
// without any registration of Accord's.
func (s state) manual() bool { return s.secret != "" && s.id == "" && s.previous == "" && !s.pending }

// Register makes sure the connection is subscribed at its partner to at
// least events (and to what it was subscribed to before), and returns what
// it did. actor is recorded in the audit entry. Errors are *Error, saying
// what failed and what to do.
func (r *Registrar) Register(ctx context.Context, tenantID, connID string, events []string, actor string) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	conn, p, sec, err := r.load(ctx, tenantID, connID)
	if err != nil {
		return Result{}, err
	}
	reg := p.Webhooks.Registration
	res := Result{ConnectionID: connID, Provider: p.Name, URL: r.HookURL(connID)}
	st := readState(sec.Extra)
	if st.manual() {
		res.Manual = true
		return res, nil
	}
	want := union(st.events, events)
	if st.id != "" && !st.pending && len(want) == len(st.events) {
		res.SubscriptionID, res.Events = st.id, st.events
		return res, r.deletePrevious(ctx, conn, p, st, actor)
	}
	auth, err := r.deps.Authorizer(ctx, conn)
	if err != nil {
		return Result{}, r.fail(p, connID, "authorizing", res.URL, err)
	}
	cn := r.deps.Connector(p.Name)
	if cn == nil {
		return Result{}, fmt.Errorf("registration: no connector for provider %s", p.Name)
	}
	if st.pending {
		if err := r.removeLeftovers(ctx, cn, p, st, res.URL, auth); err != nil {
			return Result{}, r.fail(p, connID, "removing a subscription an unanswered create left", res.URL, err)
		}
	}
	// Mark the create before sending it, with the secret it sends: a
	// crash after the partner acted is then seen and cleaned up.
	secret := st.secret
	if reg.Secret == spec.SecretGenerated && secret == "" {
		if secret, err = GenerateSecret(p); err != nil {
			return Result{}, err
		}
	}
	if _, _, err := r.life.Change(ctx, tenantID, connID, func(ctx context.Context, tx store.Tx, c *store.Connection) (*connection.Entry, error) {
		if err := r.edit(ctx, c, func(extra map[string]string) {
			extra[credential.ExtraWebhookPending] = "1"
			if reg.Secret == spec.SecretGenerated {
				extra[credential.ExtraWebhookSecret] = secret
			}
		}); err != nil {
			return nil, err
		}
		return &connection.Entry{Actor: actor, Action: "connection.webhooks_registering", Detail: map[string]any{
			"events": want, "url": res.URL}}, nil
	}); err != nil {
		return Result{}, fmt.Errorf("registration: marking the create pending: %w", err)
	}
	call := connector.SubscribeCall{URL: res.URL, Events: want, Auth: auth}
	if reg.Secret == spec.SecretGenerated {
		call.Secret = secret
	}
	sub, err := cn.Subscribe(ctx, call)
	if err != nil {
		if sub.ID != "" {
			// Made, but unusable (no issued secret): do not leave it.
			if derr := cn.Unsubscribe(ctx, sub.ID, auth); derr != nil && !errors.Is(derr, connector.ErrNotFound) {
				r.deps.Logger.WarnContext(ctx, "could not delete an unusable webhook subscription", "tenant_id", tenantID,
					"connection_id", connID, "subscription_id", sub.ID, "error", derr)
			}
		}
		return Result{}, r.fail(p, connID, "creating the subscription", res.URL, err)
	}
	replaced := st.id
	_, _, err = r.life.Change(ctx, tenantID, connID, func(ctx context.Context, tx store.Tx, c *store.Connection) (*connection.Entry, error) {
		if err := r.edit(ctx, c, func(extra map[string]string) {
			delete(extra, credential.ExtraWebhookPending)
			extra[credential.ExtraWebhookSubscription] = sub.ID
			extra[credential.ExtraWebhookEvents] = strings.Join(want, ",")
			if replaced != "" {
				extra[credential.ExtraWebhookSubscriptionPrevious] = replaced
			}
			if sub.Secret != "" {
				// The old subscription may still deliver, signed with
				// the old secret, until it is deleted.
				if old := extra[credential.ExtraWebhookSecret]; old != "" && old != sub.Secret {
					extra[credential.ExtraWebhookSecretPrevious] = old
				}
				extra[credential.ExtraWebhookSecret] = sub.Secret
			}
		}); err != nil {
			return nil, err
		}
		return &connection.Entry{Actor: actor, Action: "connection.webhooks_registered", Detail: map[string]any{
			"subscription_id": sub.ID, "events": want, "url": res.URL, "replaced": replaced}}, nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("registration: recording subscription %s: %w", sub.ID, err)
	}
	r.deps.Logger.InfoContext(ctx, "webhooks registered at the partner", "tenant_id", tenantID, "connection_id", connID,
		"provider", p.Name, "subscription_id", sub.ID, "events", want)
	st.previous = replaced
	res.SubscriptionID, res.Events, res.Created = sub.ID, want, true
	return res, r.deletePrevious(ctx, conn, p, st, actor)
}

// Deregister deletes the connection's subscriptions at the partner (a 404
// counts as deleted) and forgets them; it reports whether there was one.
// The webhook secret stays: wiping it is the disconnect's job.
func (r *Registrar) Deregister(ctx context.Context, tenantID, connID, actor string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	conn, p, sec, err := r.load(ctx, tenantID, connID)
	if errors.Is(err, ErrNotDeclared) || errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	st := readState(sec.Extra)
	ids := slices.DeleteFunc([]string{st.id, st.previous}, func(s string) bool { return s == "" })
	if len(ids) == 0 && !st.pending {
		return false, nil
	}
	url := r.HookURL(connID)
	authorize := r.deps.Authorizer
	if conn.State == store.ConnectionDisconnected && r.deps.Teardown != nil {
		authorize = r.deps.Teardown
	}
	auth, err := authorize(ctx, conn)
	if err != nil {
		return false, r.fail(p, connID, "authorizing", url, err)
	}
	cn := r.deps.Connector(p.Name)
	if cn == nil {
		return false, fmt.Errorf("registration: no connector for provider %s", p.Name)
	}
	if st.pending {
		if err := r.removeLeftovers(ctx, cn, p, st, url, auth); err != nil {
			return false, r.fail(p, connID, "removing a subscription an unanswered create left", url, err)
		}
	}
	for _, id := range ids {
		if err := cn.Unsubscribe(ctx, id, auth); err != nil && !errors.Is(err, connector.ErrNotFound) {
			return false, r.fail(p, connID, "deleting subscription "+id, url, err)
		}
	}
	_, _, err = r.life.Change(ctx, tenantID, connID, func(ctx context.Context, tx store.Tx, c *store.Connection) (*connection.Entry, error) {
		if err := r.edit(ctx, c, func(extra map[string]string) {
			for _, k := range []string{credential.ExtraWebhookSubscription, credential.ExtraWebhookSubscriptionPrevious,
				credential.ExtraWebhookEvents, credential.ExtraWebhookPending} {
				delete(extra, k)
			}
		}); err != nil {
			return nil, err
		}
		return &connection.Entry{Actor: actor, Action: "connection.webhooks_deregistered", Detail: map[string]any{
			"subscriptions": ids, "url": url}}, nil
	})
	if err != nil {
		return false, fmt.Errorf("registration: forgetting the subscriptions: %w", err)
	}
	return len(ids) > 0, nil
}

// deletePrevious deletes a subscription replaced by one with more events.
func (r *Registrar) deletePrevious(ctx context.Context, conn store.Connection, p *spec.Provider, st state, actor string) error {
	if st.previous == "" {
		return nil
	}
	auth, err := r.deps.Authorizer(ctx, conn)
	if err != nil {
		return r.fail(p, conn.ID, "authorizing", r.HookURL(conn.ID), err)
	}
	if err := r.deps.Connector(p.Name).Unsubscribe(ctx, st.previous, auth); err != nil && !errors.Is(err, connector.ErrNotFound) {
		return r.fail(p, conn.ID, "deleting the replaced subscription "+st.previous, r.HookURL(conn.ID), err)
	}
	_, _, err = r.life.Change(ctx, conn.TenantID, conn.ID, func(ctx context.Context, tx store.Tx, c *store.Connection) (*connection.Entry, error) {
		if err := r.edit(ctx, c, func(extra map[string]string) { delete(extra, credential.ExtraWebhookSubscriptionPrevious) }); err != nil {
			return nil, err
		}
		return &connection.Entry{Actor: actor, Action: "connection.webhooks_replaced", Detail: map[string]any{"deleted": st.previous}}, nil
	})
	return err
}

// removeLeftovers deletes the subscriptions to url the partner lists that
// Accord has not recorded: an earlier create whose answer was lost. Without
// a list endpoint there is nothing to look in.
func (r *Registrar) removeLeftovers(ctx context.Context, cn *connector.Connector, p *spec.Provider, st state, url string, auth connector.Authorizer) error {
	if p.Webhooks.Registration.List == nil {
		r.deps.Logger.WarnContext(ctx, "an earlier webhook subscription request went unanswered and the partner has no list endpoint: it may have left a subscription behind",
			"provider", p.Name, "url", url)
		return nil
	}
	found, err := cn.FindSubscription(ctx, url, auth)
	if err != nil {
		return err
	}
	for _, s := range found {
		if s.ID == st.id || s.ID == st.previous {
			continue
		}
		if err := cn.Unsubscribe(ctx, s.ID, auth); err != nil && !errors.Is(err, connector.ErrNotFound) {
			return err
		}
	}
	return nil
}

func (r *Registrar) load(ctx context.Context, tenantID, connID string) (store.Connection, *spec.Provider, credential.Secret, error) {
	conn, err := r.deps.Store.GetConnection(ctx, tenantID, connID)
	if err != nil {
		return store.Connection{}, nil, credential.Secret{}, fmt.Errorf("registration: connection %s: %w", connID, err)
	}
	p, ok := r.deps.Providers(conn.Provider)
	if !ok || !Declared(p) {
		return store.Connection{}, nil, credential.Secret{}, fmt.Errorf("registration: %s: %w", conn.Provider, ErrNotDeclared)
	}
	var sec credential.Secret
	if len(conn.Secret) > 0 {
		if sec, err = r.deps.Vault.OpenSecret(ctx, tenantID, conn.Secret); err != nil {
			return store.Connection{}, nil, credential.Secret{}, fmt.Errorf("registration: opening connection secret: %w", err)
		}
	}
	return conn, p, sec, nil
}

// edit rewrites the locked connection's sealed secret with fn applied to
// its Extra (a token refresh rewrites the same secret under the same lock).
func (r *Registrar) edit(ctx context.Context, c *store.Connection, fn func(extra map[string]string)) error {
	var sec credential.Secret
	if len(c.Secret) > 0 {
		var err error
		if sec, err = r.deps.Vault.OpenSecret(ctx, c.TenantID, c.Secret); err != nil {
			return err
		}
	}
	if sec.Extra == nil {
		sec.Extra = map[string]string{}
	}
	fn(sec.Extra)
	sealed, err := r.deps.Vault.SealSecret(ctx, c.TenantID, sec)
	if err != nil {
		return err
	}
	c.Secret = sealed
	return nil
}

// GenerateSecret makes a signing secret in the form the provider's
// signature scheme expects: whsec_ and base64 for Standard Webhooks, hex
// otherwise.
func GenerateSecret(p *spec.Provider) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("registration: generating a webhook secret: %w", err)
	}
	if p.Webhooks.Signature.Scheme == spec.SigStandardWebhooks {
		return "whsec_" + base64.StdEncoding.EncodeToString(b[:]), nil
	}
	return hex.EncodeToString(b[:]), nil
}

// union returns a ∪ b, sorted, without repeats.
func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
