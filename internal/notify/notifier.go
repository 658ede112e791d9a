package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
)

// ErrBadEndpoint is returned for an endpoint URL or event type the
// Notifier refuses; the message says why.
var ErrBadEndpoint = errors.New("notify: bad endpoint")

// Queue is the part of the job queue the Relay uses.
type Queue interface {
	// InsertManyTx queues jobs in tx: they run only if tx commits.
	InsertManyTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) ([]int64, error)
}

// Sealer encrypts endpoint secrets at rest (the credential vault).
type Sealer interface {
	Seal(ctx context.Context, tenantID string, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, tenantID string, sealed []byte) ([]byte, error)
}

// Config configures a Notifier. Zero values take the defaults.
type Config struct {
	// Outbound configures the HTTP client deliveries use (dial guard:
	// loopback and private addresses are refused unless allowed).
	Outbound *connector.Config
	// RelayInterval is how often pending deliveries are looked for when
	// no commit woke the relay: a commit in this process wakes it at once,
	// so the interval only bounds how late deliveries left by a crashed
	// process go out. Default 10s.
	RelayInterval time.Duration
	// RotationGrace is how long the previous secret keeps signing after a
	// rotation. Default 24h.
	RotationGrace time.Duration
	// MaxAttempts is how many times a delivery is tried (River's retry
	// policy spaces them out). Default 12.
	MaxAttempts int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Notifier manages endpoints, relays pending deliveries to the queue and
// delivers them.
type Notifier struct {
	st     store.Store
	q      Queue
	sealer Sealer
	sig    Signal
	cfg    Config
	client *http.Client

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

// New returns a Notifier. sig is the Signal given to Observe.
func New(st store.Store, q Queue, sealer Sealer, sig Signal, cfg *Config) (*Notifier, error) {
	if st == nil || q == nil || sealer == nil {
		return nil, errors.New("notify: store, queue and sealer are required")
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.RelayInterval <= 0 {
		c.RelayInterval = 10 * time.Second
	}
	if c.RotationGrace <= 0 {
		c.RotationGrace = 24 * time.Hour
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	out := c.Outbound
	if out == nil {
		out = &connector.Config{}
	}
	oc := *out
	if oc.Timeout == 0 {
		oc.Timeout = 10 * time.Second
	}
	if sig == nil {
		sig = NewSignal()
	}
	return &Notifier{st: st, q: q, sealer: sealer, sig: sig, cfg: c, client: connector.NewHTTPClient(&oc)}, nil
}

// Register adds the delivery worker to reg.
func (n *Notifier) Register(reg *queue.Registry) error {
	if err := queue.AddWorker(reg, river.Worker[DeliverArgs](&worker{n: n})); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// Start runs the relay until Stop.
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stop != nil {
		return nil
	}
	n.stop, n.done = make(chan struct{}), make(chan struct{})
	stop, done := n.stop, n.done
	go func() {
		defer close(done)
		t := time.NewTicker(n.cfg.RelayInterval)
		defer t.Stop()
		for {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if _, err := n.Relay(ctx); err != nil {
				n.cfg.Logger.WarnContext(ctx, "relaying notifications", "err", err)
			}
			cancel()
			select {
			case <-stop:
				return
			case <-n.sig:
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop ends the relay; pending deliveries wait for the next start.
func (n *Notifier) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stop == nil {
		return
	}
	close(n.stop)
	<-n.done
	n.stop, n.done = nil, nil
}

const relayBatch = 100

// Relay queues the pending deliveries (claimed and queued in one
// transaction, so each is queued once) and returns how many.
func (n *Notifier) Relay(ctx context.Context) (int, error) {
	total := 0
	for {
		k := 0
		err := n.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			ds, err := tx.ClaimNotifyDeliveries(ctx, relayBatch)
			if err != nil || len(ds) == 0 {
				return err
			}
			params := make([]river.InsertManyParams, 0, len(ds))
			for _, d := range ds {
				params = append(params, river.InsertManyParams{Args: DeliverArgs{TenantID: d.TenantID, DeliveryID: d.ID},
					InsertOpts: &river.InsertOpts{MaxAttempts: n.cfg.MaxAttempts}})
			}
			k = len(ds)
			_, err = n.q.InsertManyTx(ctx, tx, params)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("notify: relay: %w", err)
		}
		total += k
		if k < relayBatch {
			return total, nil
		}
	}
}

// newSecret returns a Standard Webhooks secret: whsec_ and 24 random
// bytes, base64.
func newSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func checkEndpoint(kind store.NotifyKind, raw string, types []string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%w: url must be an absolute http or https URL, got %q", ErrBadEndpoint, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%w: url must not carry credentials", ErrBadEndpoint)
	}
	for _, t := range types {
		if !Known(t) {
			return fmt.Errorf("%w: unknown event type %q (known: %v)", ErrBadEndpoint, t, EventTypes())
		}
	}
	if kind == store.NotifyRESTHook && len(types) != 1 {
		return fmt.Errorf("%w: a REST hook subscribes to exactly one event type", ErrBadEndpoint)
	}
	return nil
}

// CreateEndpoint registers an endpoint and returns it with its secret,
// shown this once. types empty: every event type. The audit log records
// it (never the secret).
func (n *Notifier) CreateEndpoint(ctx context.Context, tenantID string, kind store.NotifyKind, rawURL string, types []string, actor string) (store.NotifyEndpoint, string, error) {
	if err := checkEndpoint(kind, rawURL, types); err != nil {
		return store.NotifyEndpoint{}, "", err
	}
	if _, err := n.st.GetTenant(ctx, tenantID); err != nil {
		return store.NotifyEndpoint{}, "", err
	}
	secret := newSecret()
	sealed, err := n.sealer.Seal(ctx, tenantID, []byte(secret))
	if err != nil {
		return store.NotifyEndpoint{}, "", fmt.Errorf("notify: sealing secret: %w", err)
	}
	prefix := "ep_"
	if kind == store.NotifyRESTHook {
		prefix = "hook_"
	}
	now := n.cfg.Now().UTC()
	ep := store.NotifyEndpoint{TenantID: tenantID, ID: prefix + uuid.NewString(), Kind: kind, URL: rawURL, EventTypes: types,
		Secret: sealed, CreatedAt: now, UpdatedAt: now}
	err = n.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateNotifyEndpoint(ctx, ep); err != nil {
			return err
		}
		return auditEndpoint(ctx, tx, ep, actor, "notify_endpoint.created")
	})
	if err != nil {
		return store.NotifyEndpoint{}, "", fmt.Errorf("notify: creating endpoint: %w", err)
	}
	return ep, secret, nil
}

// RotateSecret gives the endpoint a new secret, returned this once; the
// previous one keeps signing (a second signature) for RotationGrace.
func (n *Notifier) RotateSecret(ctx context.Context, tenantID, id, actor string) (string, error) {
	secret := newSecret()
	sealed, err := n.sealer.Seal(ctx, tenantID, []byte(secret))
	if err != nil {
		return "", fmt.Errorf("notify: sealing secret: %w", err)
	}
	err = n.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		ep, err := tx.GetNotifyEndpoint(ctx, tenantID, id)
		if err != nil {
			return err
		}
		ep.PreviousSecret, ep.PreviousExpiresAt, ep.Secret = ep.Secret, n.cfg.Now().Add(n.cfg.RotationGrace), sealed
		if err := tx.UpdateNotifyEndpoint(ctx, ep); err != nil {
			return err
		}
		return auditEndpoint(ctx, tx, ep, actor, "notify_endpoint.secret_rotated")
	})
	if err != nil {
		return "", fmt.Errorf("notify: rotating secret: %w", err)
	}
	return secret, nil
}

// DeleteEndpoint removes the endpoint and its delivery log: nothing more
// is sent to it.
func (n *Notifier) DeleteEndpoint(ctx context.Context, tenantID, id, actor string) error {
	err := n.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		ep, err := tx.GetNotifyEndpoint(ctx, tenantID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteNotifyEndpoint(ctx, tenantID, id); err != nil {
			return err
		}
		return auditEndpoint(ctx, tx, ep, actor, "notify_endpoint.deleted")
	})
	if err != nil {
		return fmt.Errorf("notify: deleting endpoint: %w", err)
	}
	return nil
}

func auditEndpoint(ctx context.Context, tx store.Tx, ep store.NotifyEndpoint, actor, action string) error {
	raw, err := jsonMarshal(map[string]any{"kind": ep.Kind, "url": redactURL(ep.URL), "event_types": ep.EventTypes})
	if err != nil {
		return err
	}
	_, err = tx.AppendAudit(ctx, store.AuditEntry{TenantID: ep.TenantID, Actor: actor, Action: action, Subject: ep.ID, Detail: raw})
	return err
}

// redactURL keeps scheme, host and path: a query may carry a token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}
