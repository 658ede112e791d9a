package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/sim"
)

// Soak workload and fault settings.
const (
	soakTickets = 150
	// soakStall fails the run when nothing (webhooks delivered, partner
	// objects, queue depth) has moved for this long: the wait follows
	// progress, so a loaded machine slows the soak down without failing
	// it. The slowest legitimate gap is a few Retry-After waits in a row.
	soakStall = 60 * time.Second
	// soakActive is how many tickets are being worked at once: their
	// webhooks interleave, yet a ticket's versions are often adjacent in
	// the stream, where a reorder swaps them.
	soakActive = 4
)

// severityOf is the contract's priority → severity mapping.
var severityOf = map[string]int{"low": 3, "med": 2, "high": 1}

// TestSoakRandomFaults drives ~150 tickets through the escalation pack while
// the helpdesk duplicates and reorders its webhooks and the incidents and
// chat partners fail a random share of calls (429, 5xx, connection reset),
// then stops the faults, waits for the system to settle and checks what a
// user would see: one incident and one chat message per escalated ticket,
// none for the others, nothing filed as a record error.
//
// The seed is logged; ACCORD_SOAK_SEED=<seed> replays the workload and each
// simulator's fault sequence (which call a fault hits still depends on the
// scheduling of Accord's concurrent deliveries).
func TestSoakRandomFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test: drives ~150 tickets through random partner faults")
	}
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			// Not parallel with each other: on a 2-core machine two soaks
			// at once mostly measure the scheduler.
			seed := soakSeed(t)
			t.Logf("seed %d (replay: ACCORD_SOAK_SEED=%d)", seed, seed)
			runSoak(t, setupWith(t, b, &setupOptions{Seed: seed, Limiter: &connector.LimiterConfig{
				// The simulators' random 429s come whatever the request
				// rate, unlike a real partner's: the limiter's AIMD (halve
				// once per Retry-After window, win back a tenth every 10s)
				// then settles near its floor and the run takes minutes.
				// The soak checks delivery, not the limiter's curve (the
				// connector's tests do), so the floor is half the rate.
				MinFactor: 0.5,
			}}), seed)
		})
	}
}

func soakSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("ACCORD_SOAK_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ACCORD_SOAK_SEED")
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// soakTicket is one ticket of the workload: every version the helpdesk
// returned, and the steps still to do.
type soakTicket struct {
	versions []sim.Ticket
	steps    []func() (sim.Ticket, error)
}

func (s *soakTicket) id() string         { return s.versions[0].ID }
func (s *soakTicket) latest() sim.Ticket { return s.versions[len(s.versions)-1] }
func (s *soakTicket) escalated() bool    { return len(s.escalatedVersions()) > 0 }
func (s *soakTicket) url() string        { return s.versions[0].URL }
func (s *soakTicket) describe() string   { return fmt.Sprintf("%s %+v", s.id(), s.versions) }
func (s *soakTicket) escalatedVersions() []sim.Ticket {
	var out []sim.Ticket
	for _, v := range s.versions {
		if v.Status == "escalated" {
			out = append(out, v)
		}
	}
	return out
}

func runSoak(t *testing.T, e *env, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	rate := 0.15 + rng.Float64()*0.05
	t.Logf("partner fault rate %.3f", rate)
	// Random mode's 429 carries Retry-After: 1s (sim.DefaultFaultRetryAfter).
	require.NoError(t, e.helpdesk.Random(0.2, sim.FaultDuplicate, sim.FaultReorder))
	for _, f := range []*sim.Faults{e.incidents.Faults, e.chat.Faults} {
		require.NoError(t, f.Random(rate, sim.FaultRateLimit, sim.FaultServerError, sim.FaultReset))
	}

	tickets := soakWorkload(t, e, rng)
	events := 0
	for _, tk := range tickets {
		events += tk.latest().Version
	}

	// All but the last webhook go out with the faults on (a reordered last
	// one waits for a successor that is not coming yet)...
	ctx := untilStalled(t, soakStall, e.progress)
	start := time.Now()
	_, err := waitDistinctDeliveries(ctx, e.helpdesk, events-1)
	require.NoError(t, err)
	// ...then the helpdesk's faults stop, and one more change releases a
	// held webhook.
	e.helpdesk.ClearFaults()
	flush, err := e.helpdesk.CreateTicket(sim.Ticket{Title: "flush", Priority: "low"})
	require.NoError(t, err)
	tickets = append(tickets, &soakTicket{versions: []sim.Ticket{flush}})
	ds, err := waitDistinctDeliveries(ctx, e.helpdesk, events+1)
	require.NoError(t, err)
	for _, d := range ds {
		require.True(t, d.OK, "Accord acknowledges every webhook: %+v", d)
	}
	t.Logf("%d webhooks delivered in %v", len(ds), time.Since(start).Round(time.Millisecond))

	// The partners keep failing while Accord works through the backlog:
	// most partner calls happen after the webhooks are in (a 429 holds
	// every write to that partner for its Retry-After), and clearing the
	// faults now would spare them. They stop once every escalated ticket
	// has reached both partners, or at the bound; the assertions below
	// then say what is missing.
	reached := func() bool {
		for _, tk := range tickets {
			if tk.escalated() && (len(e.incidentsFor(tk.id())) == 0 || len(messagesAbout(e, tk.url())) == 0) {
				return false
			}
		}
		return true
	}
	for !reached() && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	e.incidents.ClearFaults()
	e.chat.ClearFaults()
	t.Logf("partners reached in %v", time.Since(start).Round(time.Millisecond))

	e.waitSettled(untilStalled(t, soakStall, e.progress))
	t.Logf("settled in %v", time.Since(start).Round(time.Millisecond))

	applied := map[string]map[sim.FaultKind]int{
		"helpdesk": e.helpdesk.AppliedFaults(), "incidents": e.incidents.AppliedFaults(), "chat": e.chat.AppliedFaults(),
	}
	t.Logf("faults applied: %v", applied)
	diag := func() string {
		return fmt.Sprintf("seed %d, faults %v, record errors %+v", seed, applied, e.recordErrors())
	}

	escalated := 0
	for _, tk := range tickets {
		incs := e.incidentsFor(tk.id())
		msgs := messagesAbout(e, tk.url())
		if !tk.escalated() {
			require.Empty(t, incs, "never escalated, no incident: %s; %s", tk.describe(), diag())
			require.Empty(t, msgs, "never escalated, no message: %s; %s", tk.describe(), diag())
			continue
		}
		escalated++
		require.Len(t, incs, 1, "one incident per escalated ticket: %s; incidents %+v; %s", tk.describe(), incs, diag())
		require.Len(t, msgs, 1, "one message per escalated ticket: %s; messages %+v; %s", tk.describe(), msgs, diag())
		// The contract's create_incident is op: create, and so is
		// notify_chat: the first escalated version applied makes the
		// partner object and later versions only advance the watermark.
		// Which version that is depends on faults and retries (a 5xx on
		// version 5 lets version 6 create), so the incident must be one
		// escalated version, whole: title, severity and description of the
		// same version, never a mix or a version that was not escalated.
		in := incs[0]
		require.True(t, matchesVersion(in, tk.escalatedVersions()),
			"the incident is one escalated version of the ticket: %+v; %s", in, tk.describe())
		require.Equal(t, tk.url(), in.Link)
		require.Equal(t, "triggered", in.Status)
		require.True(t, messageOfVersion(msgs[0], tk.escalatedVersions()),
			"the message names one escalated version's title: %q; %s", msgs[0].Text, tk.describe())
	}
	require.Len(t, e.incidents.Incidents(), escalated, "no incident for anything but the escalated tickets")
	require.Len(t, e.chat.Messages(chatChannel), escalated, "no message for anything but the escalated tickets")
	require.Empty(t, e.recordErrors(), "every fault was transient: nothing for an admin to fix")

	require.Positive(t, applied["helpdesk"][sim.FaultDuplicate], "the helpdesk duplicated webhooks")
	require.Positive(t, applied["helpdesk"][sim.FaultReorder], "the helpdesk reordered webhooks")
	require.Positive(t, counter(t, e.app.Registry, "accord_webhooks_received_total", map[string]string{"outcome": "duplicate"}),
		"Accord saw the duplicates")
	require.Positive(t, counter(t, e.app.Registry, "accord_action_retries_total", map[string]string{"reason": "retried"}),
		"Accord retried the partners' failures")
	t.Logf("%d tickets, %d escalated, %d webhooks", len(tickets), escalated, len(ds))
}

// soakWorkload creates the tickets and works them a few at a time in a
// seeded random order: each is created, retitled and re-prioritised a few
// times, escalated (most of them), and some are edited again afterwards.
func soakWorkload(t *testing.T, e *env, rng *rand.Rand) []*soakTicket {
	t.Helper()
	priorities := []string{"low", "med", "high"}
	pick := func() string { return priorities[rng.IntN(len(priorities))] }
	var all, active []*soakTicket
	next := 0
	for next < soakTickets || len(active) > 0 {
		for len(active) < soakActive && next < soakTickets {
			n := next
			next++
			tk, err := e.helpdesk.CreateTicket(sim.Ticket{Title: fmt.Sprintf("soak %d v1", n), Priority: pick(),
				Description: fmt.Sprintf("ticket %d", n)})
			require.NoError(t, err)
			s := &soakTicket{versions: []sim.Ticket{tk}}
			edit := func(i int) func() (sim.Ticket, error) {
				return func() (sim.Ticket, error) {
					title, prio := fmt.Sprintf("soak %d edit %d", n, i), pick()
					p := sim.TicketPatch{Title: &title}
					if rng.IntN(2) == 0 {
						p.Priority = &prio
					}
					return e.helpdesk.UpdateTicket(s.id(), p)
				}
			}
			edits := 0
			for range 1 + rng.IntN(3) {
				edits++
				s.steps = append(s.steps, edit(edits))
			}
			// One in ten stays open: it must never reach the partners.
			if rng.IntN(10) != 0 {
				s.steps = append(s.steps, func() (sim.Ticket, error) { return e.helpdesk.Escalate(s.id()) })
				if rng.IntN(5) < 2 {
					for range 1 + rng.IntN(2) {
						edits++
						s.steps = append(s.steps, edit(edits))
					}
				}
			}
			all = append(all, s)
			active = append(active, s)
		}
		i := rng.IntN(len(active))
		s := active[i]
		tk, err := s.steps[0]()
		require.NoError(t, err)
		s.versions = append(s.versions, tk)
		s.steps = s.steps[1:]
		if len(s.steps) == 0 {
			active = append(active[:i], active[i+1:]...)
		}
	}
	return all
}

// waitDistinctDeliveries waits until the helpdesk has finished delivering n
// distinct events (a duplicate is one event delivered twice).
func waitDistinctDeliveries(ctx context.Context, h *sim.Helpdesk, n int) ([]sim.Delivery, error) {
	for have := 0; ; {
		ds, err := h.WaitDeliveries(ctx, have+1)
		if err != nil {
			return ds, fmt.Errorf("%d of %d events delivered: %w", distinctEvents(ds), n, err)
		}
		if distinctEvents(ds) >= n {
			return ds, nil
		}
		have = len(ds)
	}
}

func distinctEvents(ds []sim.Delivery) int {
	seen := map[string]bool{}
	for _, d := range ds {
		seen[d.EventID] = true
	}
	return len(seen)
}

// progress is what moves while the system works: webhooks delivered,
// partner objects, events still pending, jobs waiting.
func (e *env) progress() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pending, _ := e.app.Store.ListPendingEvents(ctx, time.Now().Add(time.Hour), 100)
	depth, _ := e.app.Queue.Depth(ctx)
	return fmt.Sprintf("deliveries=%d incidents=%d messages=%d pending=%d depth=%d", len(e.helpdesk.Deliveries()),
		len(e.incidents.Incidents()), len(e.chat.Messages(chatChannel)), len(pending), depth)
}

// waitSettled waits until Accord has nothing left to do: no event pending
// on the fast path, no job waiting in the queue. The queue's depth does not
// count a running job, so the quiet must hold for a while, longer than one
// fault-free delivery takes.
func (e *env) waitSettled(ctx context.Context) {
	e.t.Helper()
	const quiet = 1500 * time.Millisecond
	var since time.Time
	var last string
	for {
		pending, err := e.app.Store.ListPendingEvents(ctx, time.Now().Add(time.Hour), 1)
		require.NoError(e.t, err)
		depth, err := e.app.Queue.Depth(ctx)
		require.NoError(e.t, err)
		state := fmt.Sprintf("pending=%d depth=%d incidents=%d messages=%d", len(pending), depth,
			len(e.incidents.Incidents()), len(e.chat.Messages(chatChannel)))
		switch {
		case len(pending) > 0 || depth > 0 || state != last:
			since, last = time.Time{}, state
		case since.IsZero():
			since = time.Now()
		case time.Since(since) >= quiet:
			return
		}
		select {
		case <-ctx.Done():
			require.FailNow(e.t, "the system did not settle", "last state %s", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// matchesVersion reports whether the incident carries exactly the mapped
// fields of one of versions.
func matchesVersion(in sim.Incident, versions []sim.Ticket) bool {
	for _, v := range versions {
		if in.Title == v.Title && in.Severity == severityOf[v.Priority] && in.Description == v.Description {
			return true
		}
	}
	return false
}

func messageOfVersion(m sim.Message, versions []sim.Ticket) bool {
	for _, v := range versions {
		if m.Text == "Escalated: "+v.Title+" "+v.URL {
			return true
		}
	}
	return false
}
