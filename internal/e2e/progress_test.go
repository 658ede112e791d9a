package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
)

// untilStalled returns a context that ends only when probe's answer has
// not changed for stall: a wait bounded by progress, not by how fast this
// machine is today. A loaded machine slows the run down; only a system
// that stopped moving fails it.
func untilStalled(t *testing.T, stall time.Duration, probe func() string) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go func() {
		last, since := probe(), time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if cur := probe(); cur != last {
				last, since = cur, time.Now()
				continue
			}
			if time.Since(since) >= stall {
				t.Logf("no progress for %v (state %s)", stall, last)
				cancel()
				return
			}
		}
	}()
	return ctx
}

// partners are the three simulators a subprocess test runs `accord serve`
// against, and the environment that points the manifests at them.
type partners struct {
	hd   *sim.Helpdesk
	inc  *sim.Incidents
	chat *sim.Chat
	env  []string
}

// startPartners starts the helpdesk (retrying each webhook up to attempts
// times, 50 ms apart, doubling), the incidents tool (no rate limit of its
// own) and the chat tool, seeded with seed, seed+1 and seed+2.
func startPartners(t *testing.T, seed uint64, attempts int) *partners {
	t.Helper()
	p := &partners{
		hd:   sim.NewHelpdesk(&sim.Config{Token: helpdeskToken, DeliveryBackoff: 50 * time.Millisecond, DeliveryAttempts: attempts, Seed: seed}),
		inc:  sim.NewIncidents(&sim.Config{Token: incidentsToken, RateLimit: -1, Seed: seed + 1}),
		chat: sim.NewChat(&sim.Config{Token: chatToken, Seed: seed + 2}),
	}
	for name, s := range map[string]interface {
		Start(context.Context, string) (string, error)
		Stop()
	}{"HELPDESK_URL": p.hd, "INCIDENTS_URL": p.inc, "CHAT_URL": p.chat} {
		t.Cleanup(s.Stop)
		url, err := s.Start(t.Context(), "127.0.0.1:0")
		require.NoError(t, err)
		p.env = append(p.env, name+"="+url)
	}
	return p
}
