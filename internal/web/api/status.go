package api

import "net/http"

// PartnerStatus is one degraded partner in GET /api/v1/status.
type PartnerStatus struct {
	Provider string `json:"provider"`
	Title    string `json:"title"`
	// Reason is "errors" (the failed share of calls crossed the threshold)
	// or "latency" (the mean write latency did).
	Reason        string  `json:"reason"`
	Message       string  `json:"message"`
	Calls         int     `json:"calls"`
	ErrorRate     float64 `json:"error_rate"`
	MeanLatencyMS int64   `json:"mean_latency_ms"`
}

// StatusMessage is what a tenant is told about a degraded partner.
func StatusMessage(title string) string {
	return title + " is experiencing delays; your data may sync late."
}

// partnerStatus reports the partners degraded across tenants right now;
// the list empties by itself when they recover.
func (a *API) partnerStatus(w http.ResponseWriter, r *http.Request) error {
	out := []PartnerStatus{}
	for _, d := range a.deps.Status.Degraded() {
		title := d.Provider
		if p := a.deps.Providers[d.Provider]; p != nil && p.Title != "" {
			title = p.Title
		}
		out = append(out, PartnerStatus{Provider: d.Provider, Title: title, Reason: d.Reason, Message: StatusMessage(title),
			Calls: d.Calls, ErrorRate: d.ErrorRate, MeanLatencyMS: d.LatencyMS})
	}
	writeJSON(w, http.StatusOK, map[string]any{"degraded": len(out) > 0, "partners": out})
	return nil
}
