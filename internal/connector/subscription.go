package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/accordhq/accord/internal/spec"
)

// Operation names of the webhook subscription calls.
const (
	opSubscribe   = "webhook subscribe"
	opUnsubscribe = "webhook unsubscribe"
	opListHooks   = "webhook list"
)

// SubscribeCall asks the partner to send webhooks to URL.
type SubscribeCall struct {
	// URL is Accord's hook URL for the connection.
	URL string
	// Events are the event types to subscribe to, sent as {events}.
	Events []string
	// Secret is the signing secret Accord generated, sent as {secret}
	// (registration secret: generated); empty otherwise.
	Secret string
	// IdempotencyKey is sent in the create endpoint's idempotency_header,
	// when the manifest names one.
	IdempotencyKey string
	Auth           Authorizer
}

// Subscription is a webhook subscription at the partner.
type Subscription struct {
	ID  string
	URL string
	// Secret is the signing secret the partner issued in its answer
	// (registration secret: issued); empty otherwise. Never log it.
	Secret string
}

// String leaves the secret out.
func (s Subscription) String() string { return "Subscription{ID:" + s.ID + " URL:" + s.URL + "}" }

func (c *Connector) registration() (*spec.Registration, error) {
	if w := c.provider.Webhooks; w != nil && w.Registration != nil {
		return w.Registration, nil
	}
	return nil, fmt.Errorf("connector: %s declares no webhooks.registration: %w", c.provider.Name, ErrUnsupported)
}

// Subscribe creates a webhook subscription through the manifest's
// webhooks.registration.create, and returns its id (read at id_path) and,
// for an issued secret, the secret (at secret_path). An answer without
// either is ErrBadResponse: a subscription Accord cannot delete or verify
// is worse than none.
func (c *Connector) Subscribe(ctx context.Context, call SubscribeCall) (Subscription, error) {
	reg, err := c.registration()
	if err != nil {
		return Subscription{}, err
	}
	ep := reg.Create
	events := make([]any, len(call.Events))
	for i, e := range call.Events {
		events[i] = e
	}
	doc := map[string]any{"url": call.URL, "events": events}
	if call.Secret != "" {
		doc["secret"] = call.Secret
	}
	path, _, body, err := ep.FindRequest(doc)
	if err != nil {
		return Subscription{}, fmt.Errorf("connector: %s: %w: %w", opSubscribe, ErrMissingParam, err)
	}
	u, err := c.url(opSubscribe, path, nil)
	if err != nil {
		return Subscription{}, err
	}
	r := request{op: opSubscribe, opKind: "subscribe", ep: ep, url: u, auth: call.Auth, idempotencyKey: call.IdempotencyKey}
	if call.Secret != "" {
		r.redact = []string{call.Secret}
	}
	if body != nil {
		if r.body, err = json.Marshal(body); err != nil {
			return Subscription{}, fmt.Errorf("connector: %s: encoding body: %w", opSubscribe, err)
		}
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return Subscription{}, err
	}
	out := Subscription{URL: call.URL}
	if v, ok := lookup(resp.doc, ep.IDPath); ok {
		out.ID = scalarString(v)
	}
	if out.ID == "" {
		return Subscription{}, fmt.Errorf("connector: %s: no subscription id at %q in the answer: %w", opSubscribe, ep.IDPath, ErrBadResponse)
	}
	if reg.Secret == spec.SecretIssued {
		if v, ok := lookup(resp.doc, reg.SecretPath); ok {
			out.Secret, _ = v.(string)
		}
		if out.Secret == "" {
			// The subscription exists but its webhooks cannot be
			// verified: say so with its id, so the caller deletes it.
			return out, fmt.Errorf("connector: %s: no signing secret at %q in the answer: %w", opSubscribe, reg.SecretPath, ErrBadResponse)
		}
	}
	return out, nil
}

// Unsubscribe deletes the subscription id. A partner that no longer has it
// answers a not_found *PartnerError (errors.Is ErrNotFound): it is gone,
// which is what the caller wanted.
func (c *Connector) Unsubscribe(ctx context.Context, id string, auth Authorizer) error {
	reg, err := c.registration()
	if err != nil {
		return err
	}
	path, err := expandPath(reg.Delete.Path, id, "", nil)
	if err != nil {
		return fmt.Errorf("connector: %s: %w", opUnsubscribe, err)
	}
	u, err := c.url(opUnsubscribe, path, nil)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{op: opUnsubscribe, opKind: "unsubscribe", ep: reg.Delete, url: u, auth: auth})
	return err
}

// Subscriptions lists the connection's subscriptions through the manifest's
// registration list endpoint (its first page: partners keep a handful of
// subscriptions per account). Without one it returns ErrUnsupported.
func (c *Connector) Subscriptions(ctx context.Context, auth Authorizer) ([]Subscription, error) {
	reg, err := c.registration()
	if err != nil {
		return nil, err
	}
	if reg.List == nil {
		return nil, fmt.Errorf("connector: %s %s: %w", c.provider.Name, opListHooks, ErrUnsupported)
	}
	u, err := c.url(opListHooks, reg.List.Path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{op: opListHooks, opKind: "list_subscriptions", ep: reg.List, url: u, auth: auth})
	if err != nil {
		return nil, err
	}
	items, err := itemsAt(resp.doc, reg.List.Items)
	if err != nil {
		return nil, fmt.Errorf("connector: %s: %w", opListHooks, err)
	}
	idPath := reg.List.IDPath
	if idPath == "" {
		idPath = "id"
	}
	out := make([]Subscription, 0, len(items))
	for _, it := range items {
		var s Subscription
		if v, ok := lookup(it, idPath); ok {
			s.ID = scalarString(v)
		}
		if v, ok := lookup(it, reg.ListURLPath()); ok {
			s.URL, _ = v.(string)
		}
		if s.ID != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// FindSubscription returns the partner's subscriptions to url, oldest
// first as the partner lists them; none is an empty slice.
func (c *Connector) FindSubscription(ctx context.Context, url string, auth Authorizer) ([]Subscription, error) {
	all, err := c.Subscriptions(ctx, auth)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(s Subscription) bool { return s.URL != url }), nil
}
