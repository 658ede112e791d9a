package api

import (
	"maps"
	"net/http"
	"slices"
)

func (a *API) listProviders(w http.ResponseWriter, r *http.Request) error {
	type providerJSON struct {
		Name     string   `json:"name"`
		Title    string   `json:"title"`
		AuthKind string   `json:"auth_kind"`
		Scopes   []Scope  `json:"scopes"`
		Objects  []string `json:"objects"`
	}
	out := []providerJSON{}
	for _, name := range slices.Sorted(maps.Keys(a.deps.Providers)) {
		p := a.deps.Providers[name]
		pj := providerJSON{Name: p.Name, Title: p.Title, AuthKind: p.Auth.Kind, Scopes: []Scope{}, Objects: slices.Sorted(maps.Keys(p.Objects))}
		for _, s := range p.Scopes {
			pj.Scopes = append(pj.Scopes, Scope{Name: s.Name, Description: s.Description})
		}
		out = append(out, pj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": out})
	return nil
}

func (a *API) listContracts(w http.ResponseWriter, r *http.Request) error {
	type contractJSON struct {
		Name      string   `json:"name"`
		Version   string   `json:"version"`
		Title     string   `json:"title"`
		Story     string   `json:"story"`
		Providers []string `json:"providers"`
	}
	out := []contractJSON{}
	for _, name := range slices.Sorted(maps.Keys(a.deps.Contracts)) {
		c := a.deps.Contracts[name]
		out = append(out, contractJSON{Name: c.Name, Version: c.Version, Title: c.Title, Story: c.Story, Providers: c.Providers})
	}
	writeJSON(w, http.StatusOK, map[string]any{"contracts": out})
	return nil
}
