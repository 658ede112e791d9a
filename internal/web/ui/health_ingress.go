package ui

import (
	"context"
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// latencyQuantiles are the percentiles the page shows.
var latencyQuantiles = []struct {
	Name string
	Q    float64
}{{"p50", 0.5}, {"p99", 0.99}}

// quantile is one estimated latency percentile.
type quantile struct {
	Name  string
	Value string // "—" when no event was applied
}

// waiting is what the installation's writes wait for now.
type waiting struct {
	// Total: events received on its trigger connections not delivered
	// yet.
	Total int
	// Held: all of them when the installation is paused or a connection
	// it writes to needs reconnecting (writes wait; nothing is dropped).
	Held       int
	HeldReason string
	// Throttled: all of them when a partner it writes to asked this
	// tenant to wait (Retry-After), until ThrottledUntil.
	Throttled      int
	ThrottledBy    string
	ThrottledUntil time.Time
}

// ingressHealth adds to the window its receipt → write latencies and its
// webhook rejections by reason, read from the hourly rollups.
func (u *UI) ingressHealth(ctx context.Context, inst store.Installation, triggers []string, win *window, since time.Time) error {
	var lat store.LatencyHistogram
	rejected := map[string]int{}
	for _, id := range triggers {
		h, err := u.deps.Store.EventLatencies(ctx, inst.TenantID, id, since)
		if err != nil {
			return err
		}
		lat = lat.Add(h)
		rs, err := u.deps.Store.CountWebhookRejections(ctx, inst.TenantID, id, since)
		if err != nil {
			return err
		}
		for k, n := range rs {
			rejected[k] += n
			win.RejectedTotal += n
		}
	}
	win.Latencies = lat.Total()
	for _, q := range latencyQuantiles {
		v := "—"
		if d, ok := lat.Quantile(q.Q); ok {
			v = formatLatency(d)
		}
		win.Quantiles = append(win.Quantiles, quantile{Name: q.Name, Value: v})
	}
	win.Rejections = sortedCounts(rejected)
	win.LatencyChart = newLatencyChart(win.ID+"-latency", "Receipt → write latency, "+lowerFirst(win.Label), lat)
	return nil
}

// waitingWrites counts the installation's events not delivered yet, and
// says which of them are held back (paused, reconnect needed) or
// throttled (a partner's Retry-After in force): derived from the state
// now, since the engine parks a held event rather than recording why.
func (u *UI) waitingWrites(ctx context.Context, inst store.Installation, h *health, triggers []string) error {
	n, err := u.deps.Store.CountWaitingEvents(ctx, inst.TenantID, triggers)
	if err != nil {
		return err
	}
	w := waiting{Total: n}
	switch {
	case inst.State == store.InstallationPaused:
		w.Held, w.HeldReason = n, "the integration is paused"
	default:
		for _, ch := range h.Connections {
			if ch.NeedsReconnect || ch.Conn.State == store.ConnectionDisconnected {
				w.Held, w.HeldReason = n, ch.Provider+" needs reconnecting"
				break
			}
		}
	}
	targets := map[string]string{} // provider name → title
	if c := u.contract(inst); c != nil {
		for _, a := range c.Actions {
			for _, ch := range h.Connections {
				if ch.Name == a.Provider {
					targets[ch.Conn.Provider] = ch.Provider
				}
			}
		}
	}
	if len(targets) > 0 {
		holds, err := u.deps.Store.ListPartnerHolds(ctx, u.deps.Now())
		if err != nil {
			return err
		}
		for _, hold := range holds {
			title, ok := targets[hold.Provider]
			if hold.TenantID != inst.TenantID || !ok {
				continue
			}
			if hold.Until.After(w.ThrottledUntil) {
				w.Throttled, w.ThrottledBy, w.ThrottledUntil = n, title, hold.Until
			}
		}
	}
	h.Waiting = w
	return nil
}

// formatLatency rounds d for reading: milliseconds under a second, then
// seconds, minutes, hours.
func formatLatency(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", max(d.Milliseconds(), 1))
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.1f min", d.Minutes())
	default:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
}

// newLatencyChart draws the histogram as bars of two buckets each (a
// factor of 2 in latency), from the fastest to the slowest bar with
// events.
func newLatencyChart(id, title string, h store.LatencyHistogram) chart {
	c := chart{ID: id, Title: title, Width: chartWidth, Height: chartHeight}
	type group struct {
		lo, hi time.Duration
		n      int
	}
	var groups []group
	for i := 0; i < len(store.LatencyBounds)+1; i += 2 {
		g := group{n: 0}
		if i > 0 {
			g.lo = store.LatencyBounds[i-1]
		}
		g.hi = -1
		if i+1 < len(store.LatencyBounds) {
			g.hi = store.LatencyBounds[i+1]
		}
		for j := i; j < i+2 && j < len(h); j++ {
			g.n += h[j]
		}
		groups = append(groups, g)
	}
	first, last := -1, -1
	for i, g := range groups {
		if g.n > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		c.Desc = "No event was applied in this period."
		c.Start, c.End = "—", "—"
		return c
	}
	// At least 12 bars, so one busy bucket does not fill the chart.
	for last-first+1 < 12 && (first > 0 || last < len(groups)-1) {
		if last < len(groups)-1 {
			last++
		}
		if last-first+1 < 12 && first > 0 {
			first--
		}
	}
	groups = groups[first : last+1]
	for _, g := range groups {
		c.Peak = max(c.Peak, g.n)
	}
	slot := float64(chartWidth) / float64(len(groups))
	scale := float64(chartHeight) / float64(max(c.Peak, 1))
	label := func(g group) string {
		if g.hi < 0 {
			return "over " + formatLatency(g.lo)
		}
		return formatLatency(g.lo) + "–" + formatLatency(g.hi)
	}
	total := 0
	for i, g := range groups {
		b := bar{X: float64(i)*slot + slot*0.1, W: slot * 0.8, Applied: g.n, Total: g.n}
		b.AppliedH = float64(g.n) * scale
		b.AppliedY = float64(chartHeight) - b.AppliedH
		b.Label = fmt.Sprintf("%s: %d events", label(g), g.n)
		c.Bars = append(c.Bars, b)
		total += g.n
	}
	c.Start, c.End = formatLatency(groups[0].lo), label(groups[len(groups)-1])
	c.Desc = fmt.Sprintf("%d applied events by receipt → write latency, from %s to %s; the busiest bar has %d.",
		total, c.Start, c.End, c.Peak)
	return c
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}

// rejectionReasons explains each reason in the page's words.
var rejectionReasons = map[string]string{
	"bad_signature": "bad signature (not signed with this connection's secret)",
	"malformed":     "malformed (not an event Accord can read)",
	"too_large":     "too large",
	"overloaded":    "refused while overloaded (the partner retries)",
	"not_found":     "sent to a disconnected connection",
}

func reasonText(r string) string {
	if t, ok := rejectionReasons[r]; ok {
		return t
	}
	return r
}
