package api

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/spec"
)

// connectionSettingsInput is the body of PATCH
// /api/v1/tenants/{tenant}/connections/{id}/settings.
type connectionSettingsInput struct {
	// Settings to change, by name: a value replaces the stored one, ""
	// clears an optional one; settings not named keep their values.
	Settings map[string]string `json:"settings"`
}

// patchConnectionSettings changes a connection's non-secret settings
// (the manifest's connection_settings), checked like at creation: an
// undeclared name or a bad value is 422 naming the setting. The change is
// audited by name, and the caches holding the connection forget it, so
// the next partner call uses the new values.
func (a *API) patchConnectionSettings(w http.ResponseWriter, r *http.Request) error {
	var in connectionSettingsInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Settings) == 0 {
		return unprocessable(`settings is required: give the settings to change, e.g. {"settings": {"subdomain": "acme"}}`)
	}
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	conn, err := a.deps.Store.GetConnection(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	p, ok := a.deps.Providers[conn.Provider]
	if !ok {
		return unprocessable("provider %s is not loaded: its connection settings cannot be checked", conn.Provider)
	}
	for _, name := range slices.Sorted(maps.Keys(in.Settings)) {
		if p.Settings[name] == nil {
			return unprocessable("connection setting %q is not declared by provider %s: %s", name, p.Name, declared(p))
		}
	}
	life := connection.New(a.deps.Store, &connection.Config{OnChange: a.deps.OnConnectionChanged})
	c, _, err := life.EditSettings(r.Context(), tenant, id, "admin api", func(cur map[string]string) (map[string]string, error) {
		if cur == nil {
			cur = map[string]string{}
		}
		for k, v := range in.Settings {
			cur[k] = v
		}
		out, err := p.CheckSettings(cur)
		if err != nil {
			return nil, unprocessable("connection setting %s; change it and send again", strings.TrimPrefix(err.Error(), spec.ErrBadSetting.Error()+": "))
		}
		return out, nil
	})
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.toConnection(c))
	return nil
}

// declared lists a provider's settings for an error message.
func declared(p *spec.Provider) string {
	if len(p.Settings) == 0 {
		return "it declares none"
	}
	return "its settings are " + strings.Join(slices.Sorted(maps.Keys(p.Settings)), ", ")
}

func unprocessable(format string, args ...any) error {
	return &Error{Status: http.StatusUnprocessableEntity, Msg: fmt.Sprintf(format, args...)}
}
