package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/accordhq/accord/internal/notify"
	"github.com/accordhq/accord/internal/store"
)

// Notifier manages change-notification endpoints and REST hooks
// (internal/notify).
type Notifier interface {
	CreateEndpoint(ctx context.Context, tenantID string, kind store.NotifyKind, url string, types []string, actor string) (store.NotifyEndpoint, string, error)
	RotateSecret(ctx context.Context, tenantID, id, actor string) (string, error)
	DeleteEndpoint(ctx context.Context, tenantID, id, actor string) error
}

// NotifyEndpoint is the API's view of a change-notification endpoint.
// Secret is present only in the answer that created or rotated it.
type NotifyEndpoint struct {
	ID                string    `json:"id"`
	Kind              string    `json:"kind"`
	URL               string    `json:"url"`
	EventTypes        []string  `json:"event_types"`
	Secret            string    `json:"secret,omitempty"`
	PreviousExpiresAt time.Time `json:"previous_secret_expires_at,omitzero"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func toNotifyEndpoint(e store.NotifyEndpoint) NotifyEndpoint {
	types := e.EventTypes
	if types == nil {
		types = []string{}
	}
	return NotifyEndpoint{ID: e.ID, Kind: string(e.Kind), URL: e.URL, EventTypes: types, PreviousExpiresAt: e.PreviousExpiresAt,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// NotifyDelivery is one entry of an endpoint's delivery log.
type NotifyDelivery struct {
	ID         string    `json:"id"`
	EventType  string    `json:"event_type"`
	State      string    `json:"state"`
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (a *API) notifier() (Notifier, error) {
	if a.deps.Notifier == nil {
		return nil, &Error{Status: http.StatusNotImplemented, Msg: "this process does not send notifications"}
	}
	return a.deps.Notifier, nil
}

func notifyErr(err error) error {
	if errors.Is(err, notify.ErrBadEndpoint) {
		return badRequest("%v", err)
	}
	return err
}

type notifyEndpointInput struct {
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types,omitempty"`
}

func (a *API) createNotifyEndpoint(w http.ResponseWriter, r *http.Request) error {
	n, err := a.notifier()
	if err != nil {
		return err
	}
	var in notifyEndpointInput
	if err := decode(r, &in); err != nil {
		return err
	}
	ep, secret, err := n.CreateEndpoint(r.Context(), r.PathValue("tenant"), store.NotifyWebhook, in.URL, in.EventTypes, "admin api")
	if err != nil {
		return notifyErr(err)
	}
	out := toNotifyEndpoint(ep)
	out.Secret = secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) listNotifyEndpoints(w http.ResponseWriter, r *http.Request) error {
	list, err := a.deps.Store.ListNotifyEndpoints(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	out := make([]NotifyEndpoint, 0, len(list))
	for _, e := range list {
		out = append(out, toNotifyEndpoint(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": out, "event_types": notify.EventTypes()})
	return nil
}

func (a *API) deleteNotifyEndpoint(w http.ResponseWriter, r *http.Request) error {
	n, err := a.notifier()
	if err != nil {
		return err
	}
	if err := n.DeleteEndpoint(r.Context(), r.PathValue("tenant"), r.PathValue("id"), "admin api"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) rotateNotifySecret(w http.ResponseWriter, r *http.Request) error {
	n, err := a.notifier()
	if err != nil {
		return err
	}
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	secret, err := n.RotateSecret(r.Context(), tenant, id, "admin api")
	if err != nil {
		return err
	}
	ep, err := a.deps.Store.GetNotifyEndpoint(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	out := toNotifyEndpoint(ep)
	out.Secret = secret
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) listNotifyDeliveries(w http.ResponseWriter, r *http.Request) error {
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	if _, err := a.deps.Store.GetNotifyEndpoint(r.Context(), tenant, id); err != nil {
		return err
	}
	list, err := a.deps.Store.ListNotifyDeliveries(r.Context(), tenant, id, 100)
	if err != nil {
		return err
	}
	out := make([]NotifyDelivery, 0, len(list))
	for _, d := range list {
		out = append(out, NotifyDelivery{ID: d.ID, EventType: d.EventType, State: string(d.State), Attempts: d.Attempts,
			LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
	return nil
}
