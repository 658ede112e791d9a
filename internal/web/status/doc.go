// Package status tells whether a partner is degraded: it watches this
// process's partner-call metrics (accord_partner_requests_total and
// accord_action_duration_seconds) over a sliding window, and reports a
// provider whose share of failed calls (transient errors, rate limits,
// unreachable) or mean write latency crosses a threshold, across all
// tenants. The report clears by itself once the window slides past the
// trouble. The UI shows it as a banner and the API at /api/v1/status.
//
// Each process sees the calls it makes; with several processes each sees
// a share of the traffic, which is enough to notice a partner-wide
// problem.
//
// The Watcher turns verdicts into transitions recorded in the store (one
// flag per partner, shared by every process), and the store's
// notification wrapper tells each tenant using the partner once per
// transition: partner.degraded, then partner.recovered.
package status
