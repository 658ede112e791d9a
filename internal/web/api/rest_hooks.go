package api

import (
	"encoding/json"
	"net/http"

	"github.com/accordhq/accord/internal/notify"
	"github.com/accordhq/accord/internal/store"
)

// The REST Hooks pattern of iPaaS platforms (Zapier, Make, Workato): a
// subscribe call with a target URL and one event type, an unsubscribe
// call with the id it answered, and a sample per event type for the
// trigger's field mapping. A target that answers 410 is unsubscribed.
// The tenant is named in the call until tenant-scoped API tokens name it.

type restHookInput struct {
	TenantID  string `json:"tenant_id"`
	TargetURL string `json:"target_url"`
	Event     string `json:"event"`
}

// RESTHook is a subscription. Secret (shown once) verifies the
// Standard Webhooks signature of what it receives, for platforms that
// can.
type RESTHook struct {
	ID        string `json:"id"`
	TenantID  string `json:"tenant_id"`
	TargetURL string `json:"target_url"`
	Event     string `json:"event"`
	Secret    string `json:"secret,omitempty"`
}

func (a *API) subscribeRESTHook(w http.ResponseWriter, r *http.Request) error {
	n, err := a.notifier()
	if err != nil {
		return err
	}
	var in restHookInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.TenantID == "" || in.Event == "" {
		return badRequest("tenant_id, target_url and event are required; events: %v", notify.EventTypes())
	}
	ep, secret, err := n.CreateEndpoint(r.Context(), in.TenantID, store.NotifyRESTHook, in.TargetURL, []string{in.Event}, "rest hook")
	if err != nil {
		return notifyErr(err)
	}
	writeJSON(w, http.StatusCreated, RESTHook{ID: ep.ID, TenantID: in.TenantID, TargetURL: ep.URL, Event: in.Event, Secret: secret})
	return nil
}

func (a *API) unsubscribeRESTHook(w http.ResponseWriter, r *http.Request) error {
	n, err := a.notifier()
	if err != nil {
		return err
	}
	tenant := r.URL.Query().Get("tenant_id")
	if tenant == "" {
		return badRequest("tenant_id query parameter is required")
	}
	ep, err := a.deps.Store.GetNotifyEndpoint(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	if ep.Kind != store.NotifyRESTHook {
		return store.ErrNotFound
	}
	if err := n.DeleteEndpoint(r.Context(), tenant, ep.ID, "rest hook"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// restHookSample answers a list holding one sample message of the event
// type, what Zapier's "perform list" expects.
func (a *API) restHookSample(w http.ResponseWriter, r *http.Request) error {
	raw, ok := notify.Sample(r.PathValue("event"))
	if !ok {
		return &Error{Status: http.StatusNotFound, Msg: "unknown event type; known: " + jsonList(notify.EventTypes())}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("[" + string(raw) + "]\n"))
	return nil
}

func (a *API) restHookEvents(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"event_types": notify.EventTypes()})
	return nil
}

func jsonList(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}
