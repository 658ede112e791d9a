package api

import (
	"maps"
	"net/http"
	"slices"
	"strings"
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
		// Versions lists every loaded version, oldest first; Version is
		// the newest, what new installations and upgrades get.
		Versions []string `json:"versions"`
	}
	out := []contractJSON{}
	for _, name := range slices.Sorted(maps.Keys(a.deps.Contracts)) {
		c := a.deps.Contracts[name]
		versions := []string{c.Version}
		if vs := a.deps.Versions[name]; len(vs) > 0 {
			versions = slices.SortedFunc(maps.Keys(vs), a.compareVersions)
		}
		out = append(out, contractJSON{Name: c.Name, Version: c.Version, Title: c.Title, Story: c.Story, Providers: c.Providers, Versions: versions})
	}
	writeJSON(w, http.StatusOK, map[string]any{"contracts": out})
	return nil
}

// compareVersions orders contract versions (Deps.CompareVersions, else as
// text).
func (a *API) compareVersions(x, y string) int {
	if a.deps.CompareVersions != nil {
		return a.deps.CompareVersions(x, y)
	}
	return strings.Compare(x, y)
}
