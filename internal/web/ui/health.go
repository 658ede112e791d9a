package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// Outcomes the engine stores on a done event (see engine/outcome.go).
const (
	outcomeApplied = "applied"
	outcomeFailed  = "failed"
)

// Health statuses of an installation, worst last.
const (
	statusHealthy   = "healthy"
	statusPaused    = "paused"
	statusAttention = "attention"
)

// health is everything the Integration Health page shows about one
// installation.
type health struct {
	Inst        store.Installation
	Title       string
	Explanation string // spec.Explain's plain language; "" when the contract version is not loaded
	Connections []connectionHealth
	Windows     []window
	// LastSuccess is when the newest event applied by this installation's
	// triggers was received.
	LastSuccess time.Time
	LastError   *store.RecordError
	OpenErrors  int
	OpenByClass []classCount
	Status      string
	Reasons     []string
	// Charts show the last 24 hours by hour and 7 days by 6 hours.
	Charts []chart
	// Waiting: the writes waiting now, and why.
	Waiting waiting
}

type connectionHealth struct {
	Name     string // the contract's provider name
	Provider string // the provider's title
	Conn     store.Connection
	Trigger  bool // events arrive on it
	// NeedsReconnect: only reconnecting (new consent or credentials)
	// brings it back.
	NeedsReconnect bool
}

// window counts the trigger connections' events over one period.
type window struct {
	ID       string
	Label    string
	Counts   store.EventCounts
	Applied  int
	Failed   int
	Total    int
	Rate     string // applied / (applied + failed), "—" when neither happened
	Outcomes []classCount
	// Latencies counts the applied events the quantiles are estimated
	// from (full pages only, as are the rest).
	Latencies     int
	Quantiles     []quantile
	LatencyChart  chart
	Rejections    []classCount
	RejectedTotal int
}

type classCount struct {
	Name  string
	Count int
}

// span is a window's label and length.
type span struct {
	id, label string
	d         time.Duration
}

var windows = []span{{"day", "Last 24 hours", 24 * time.Hour}, {"week", "Last 7 days", 7 * 24 * time.Hour}}

func (u *UI) contract(inst store.Installation) *spec.Contract {
	return u.deps.Versions[inst.Contract][inst.ContractVersion]
}

// triggerConnections are the connections the installation's webhook
// triggers listen on: its events arrive there. An event on a connection
// two installations share counts for both.
func (u *UI) triggerConnections(inst store.Installation) []string {
	c := u.contract(inst)
	seen := map[string]bool{}
	var out []string
	if c != nil {
		for _, name := range slices.Sorted(maps.Keys(c.Triggers)) {
			t := c.Triggers[name]
			if t == nil || t.Webhook == nil {
				continue
			}
			if id := inst.Connections[t.Webhook.Provider]; id != "" && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

func (u *UI) providerTitle(name string) string {
	if p := u.deps.Providers[name]; p != nil && p.Title != "" {
		return p.Title
	}
	return name
}

// summary is the short health shown in lists: status, reasons, open
// errors and the 24-hour success rate.
func (u *UI) summary(ctx context.Context, inst store.Installation) (health, error) {
	return u.health(ctx, inst, windows[:1], false)
}

// health gathers the installation's figures; full adds the explanation,
// the last error and every window.
func (u *UI) health(ctx context.Context, inst store.Installation, ws []span, full bool) (health, error) {
	h := health{Inst: inst, Title: inst.Contract}
	c := u.contract(inst)
	if c != nil && c.Title != "" {
		h.Title = c.Title
	}
	if full && c != nil {
		h.Explanation = spec.Explain(c, &spec.Bundle{Providers: u.deps.Providers})
	}
	triggers := u.triggerConnections(inst)
	for _, name := range slices.Sorted(maps.Keys(inst.Connections)) {
		conn, err := u.deps.Store.GetConnection(ctx, inst.TenantID, inst.Connections[name])
		if err != nil {
			return health{}, fmt.Errorf("reading connection %s: %w", name, err)
		}
		ch := connectionHealth{Name: name, Provider: u.providerTitle(conn.Provider), Conn: conn,
			Trigger:        slices.Contains(triggers, conn.ID),
			NeedsReconnect: conn.State == store.ConnectionNeedsReconnect || conn.State == store.ConnectionMissingScopes}
		h.Connections = append(h.Connections, ch)
		if conn.State != store.ConnectionActive {
			reason := conn.StateReason
			if reason == "" {
				reason = string(conn.State)
			}
			h.Reasons = append(h.Reasons, fmt.Sprintf("%s: %s", ch.Provider, reason))
		}
	}
	now := u.deps.Now()
	for _, w := range ws {
		win := window{ID: w.id, Label: w.label, Counts: store.EventCounts{Outcomes: map[string]int{}}}
		for _, id := range triggers {
			c, err := u.deps.Store.CountEvents(ctx, inst.TenantID, id, now.Add(-w.d))
			if err != nil {
				return health{}, err
			}
			win.Counts.InFlight += c.InFlight
			for k, n := range c.Outcomes {
				win.Counts.Outcomes[k] += n
			}
		}
		win.Applied, win.Failed, win.Total = win.Counts.Outcomes[outcomeApplied], win.Counts.Outcomes[outcomeFailed], win.Counts.Total()
		win.Rate = "—"
		if d := win.Applied + win.Failed; d > 0 {
			win.Rate = fmt.Sprintf("%.1f%%", 100*float64(win.Applied)/float64(d))
		}
		win.Outcomes = sortedCounts(win.Counts.Outcomes)
		if win.Counts.InFlight > 0 {
			win.Outcomes = append(win.Outcomes, classCount{Name: "in progress", Count: win.Counts.InFlight})
		}
		if full {
			if err := u.ingressHealth(ctx, inst, triggers, &win, now.Add(-w.d)); err != nil {
				return health{}, err
			}
		}
		h.Windows = append(h.Windows, win)
	}
	if full {
		var hours []store.EventHour
		for _, id := range triggers {
			hs, err := u.deps.Store.CountEventsByHour(ctx, inst.TenantID, id, now.Add(-7*24*time.Hour))
			if err != nil {
				return health{}, err
			}
			hours = append(hours, hs...)
		}
		h.Charts = []chart{
			newChart("day", "Events per hour, last 24 hours", hours, now, 24, time.Hour),
			newChart("week", "Events per 6 hours, last 7 days", hours, now, 28, 6*time.Hour),
		}
	}
	for _, id := range triggers {
		if !full {
			break // lists do not show it
		}
		e, err := u.deps.Store.LastEventWithOutcome(ctx, inst.TenantID, id, outcomeApplied)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return health{}, err
		}
		if e.ReceivedAt.After(h.LastSuccess) {
			h.LastSuccess = e.ReceivedAt
		}
	}
	if full {
		if err := u.waitingWrites(ctx, inst, &h, triggers); err != nil {
			return health{}, err
		}
	}
	open, err := u.deps.Store.CountRecordErrors(ctx, inst.TenantID, inst.ID, store.RecordErrorOpen)
	if err != nil {
		return health{}, err
	}
	h.OpenByClass = sortedCounts(open)
	for _, n := range open {
		h.OpenErrors += n
	}
	if h.OpenErrors > 0 {
		h.Reasons = append(h.Reasons, plural(h.OpenErrors, "record error")+" waiting for a fix")
	}
	if full {
		last, err := u.deps.Store.ListRecordErrors(ctx, inst.TenantID, store.RecordErrorFilter{InstallationID: inst.ID, Limit: 1})
		if err != nil {
			return health{}, err
		}
		if len(last) > 0 {
			h.LastError = &last[0]
		}
	}
	switch {
	case len(h.Reasons) > 0:
		h.Status = statusAttention
	case inst.State == store.InstallationPaused:
		h.Status = statusPaused
		h.Reasons = append(h.Reasons, "paused: events wait until it is resumed")
	default:
		h.Status = statusHealthy
	}
	if c == nil {
		h.Reasons = append(h.Reasons, fmt.Sprintf("contract %s version %s is not loaded: its events wait", inst.Contract, inst.ContractVersion))
		h.Status = statusAttention
	}
	return h, nil
}

// sortedCounts lists m largest first, then by name.
func sortedCounts(m map[string]int) []classCount {
	out := make([]classCount, 0, len(m))
	for k, n := range m {
		if k == "" {
			k = "done"
		}
		out = append(out, classCount{Name: k, Count: n})
	}
	slices.SortFunc(out, func(a, b classCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
	return out
}
