// Package loadtest measures Accord's hot path end to end: signed partner
// webhooks in, partner writes out, at a fixed open-loop rate.
//
// Run starts a whole Accord process (app.App) on SQLite or PostgreSQL with
// the incidents and chat simulators on loopback, sets up tenants,
// connections and the support-escalation installation through the admin
// API as an operator would, then sends one signed helpdesk webhook per
// distinct escalated ticket from a pool of keep-alive clients. Each event's
// latency is measured twice: directly (send time → the moment the incidents
// simulator created the incident for that ticket) and as the engine sees it
// (accord_event_to_action_seconds, receipt → partner write). RunNoop sends
// the same load to a handler that answers 202 at once: the ceiling of the
// load generator and the HTTP stack on this machine, measured in the same
// run.
//
// The benchmark (BenchmarkEventToAction) and `accord bench` both drive it.
// Nothing here belongs in a unit test's timing assertions: the numbers are
// for people, and the table says what bounds them.
package loadtest
