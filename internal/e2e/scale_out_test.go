package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
)

// TestScaleOutAPIAndTwoWorkers runs Accord split as the README describes
// for PostgreSQL: one `--role api` process taking webhooks and two
// `--role worker` processes working the queue. Half-way through the load
// one worker is SIGKILLed: its jobs are rescued by the other. Every
// escalation ends with exactly one incident and one message, every worker
// serves its own /metrics, and no delivery job is left unfinished.
func TestScaleOutAPIAndTwoWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three accord processes")
	}
	t.Parallel()
	db, masterKey := database(t, "postgres")
	bin := accordBinary(t)
	const n = 80

	ps := startPartners(t, 1, 10)
	hd, inc, chat := ps.hd, ps.inc, ps.chat
	// Slow partner answers keep jobs in flight, so the kill lands on some.
	require.NoError(t, inc.Random(0.3, sim.FaultSlow))

	start := func(role, addr string, extra ...string) *exec.Cmd {
		args := append([]string{"serve", "--role", role, "--db", db, "--addr", addr, "--packs", packsDir(t),
			"--allow-loopback-partners=true", "--admin-token", adminToken, "--log-format", "text", "--log-level", "error"}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Env = append(append(os.Environ(), ps.env...), "ACCORD_MASTER_KEY="+masterKey)
		cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
		dieWithParent(cmd)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
			}
		})
		waitReady(t, "http://"+addr)
		return cmd
	}
	apiAddr, w1Addr, w2Addr := freeAddr(t), freeAddr(t), freeAddr(t)
	start("api", apiAddr)
	w1 := start("worker", w1Addr, "--no-migrate")
	start("worker", w2Addr, "--no-migrate")
	base := "http://" + apiAddr
	hdConn, _, _, _ := install(t, base, adminToken, tenantID, helpdeskToken, incidentsToken, chatToken, webhookSecret)
	hd.Subscribe(base+"/hooks/"+hdConn, webhookSecret)

	for i := 1; i <= n; i++ {
		tk, err := hd.CreateTicket(sim.Ticket{Title: fmt.Sprintf("scale %d", i), Priority: "high"})
		require.NoError(t, err)
		_, err = hd.Escalate(tk.ID)
		require.NoError(t, err)
		if i == n/2 {
			require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
			_ = w1.Wait()
		}
	}
	ctx := untilStalled(t, 90*time.Second, func() string {
		return fmt.Sprintf("%d/%d", inc.Count(), len(chat.Messages(chatChannel)))
	})
	for (inc.Count() < n || len(chat.Messages(chatChannel)) < n) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	inc.ClearFaults()
	require.Equal(t, n, inc.Count(), "one incident per escalation, none twice")
	require.Len(t, chat.Messages(chatChannel), n, "one message per escalation, none twice")
	seen := map[string]bool{}
	for _, in := range inc.Incidents() {
		require.False(t, seen[in.ExternalID], "two incidents for %s", in.ExternalID)
		seen[in.ExternalID] = true
	}

	resp, err := http.Get("http://" + w2Addr + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(body), `accord_event_outcomes_total{outcome="applied"`, "the surviving worker's deliveries are scraped where they happen")

	// No delivery job is left behind: the killed worker's running jobs are
	// rescued once its heartbeat lapses, and finish (as replays: their
	// writes were already made or are made now, once).
	conn, err := pgxpool.New(context.Background(), db) // probed from two goroutines
	require.NoError(t, err)
	t.Cleanup(conn.Close) // after the progress probe has stopped (t.Context ends first)
	count := func() (int, error) {
		var n int
		err := conn.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE kind = 'accord_deliver_event' AND state NOT IN ('completed', 'cancelled')`).Scan(&n)
		return n, err
	}
	unfinished := func() int {
		n, err := count()
		require.NoError(t, err)
		return n
	}
	// The probe runs on another goroutine: it reports errors as state, it
	// does not fail the test from there.
	drained := untilStalled(t, 60*time.Second, func() string { n, err := count(); return fmt.Sprint(n, err) })
	for unfinished() > 0 && drained.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	require.Zero(t, unfinished(), "every delivery job finished, the killed worker's included")
	require.Equal(t, n, inc.Count(), "and the rescued jobs wrote nothing twice")
	require.Len(t, chat.Messages(chatChannel), n)
	require.True(t, strings.Contains(db, "search_path"), "the test's own schema")
}
