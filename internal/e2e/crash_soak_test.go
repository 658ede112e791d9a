package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/sim"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// accordBinary builds cmd/accord once per test binary.
func accordBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "accord-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "accord")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/accord")
		cmd.Dir = filepath.Join(packsDir(t), "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return builtBin
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	require.NoError(t, err, name)
	return n
}

// TestCrashSoak escalates tickets while the partners hang after
// committing, fail with 5xx and reset connections, and the helpdesk
// duplicates webhooks; it SIGKILLs `accord serve` at seeded random moments
// (10 times by default) and restarts it each time. At the end every
// escalated ticket has exactly one incident and one chat message, and
// every event Accord accepted has a final outcome: none lost, none
// duplicated. ACCORD_CRASH_ESCALATIONS (default 150) and
// ACCORD_CRASH_KILLS (default 10) size the run; ACCORD_SOAK_SEED replays
// it.
func TestCrashSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the accord binary and kills it repeatedly under load")
	}
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) { runCrashSoak(t, b) })
	}
}

func runCrashSoak(t *testing.T, b backend) {
	n := envInt(t, "ACCORD_CRASH_ESCALATIONS", 150)
	kills := envInt(t, "ACCORD_CRASH_KILLS", 10)
	seed := soakSeed(t)
	t.Logf("seed %d (replay: ACCORD_SOAK_SEED=%d), %d escalations, %d kills", seed, seed, n, kills)
	rng := rand.New(rand.NewPCG(seed, seed^0xc7a5))
	db, masterKey := database(t, b)
	bin := accordBinary(t)

	ps := startPartners(t, seed, 12)
	hd, inc, chat := ps.hd, ps.inc, ps.chat
	require.NoError(t, hd.Random(0.1, sim.FaultDuplicate))
	for _, f := range []*sim.Faults{inc.Faults, chat.Faults} {
		require.NoError(t, f.Random(0.1, sim.FaultHangAfter, sim.FaultServerError, sim.FaultReset))
	}

	addr := freeAddr(t) // fixed across restarts: the helpdesk keeps its subscription
	base := "http://" + addr
	var cur *exec.Cmd
	serve := func() {
		cmd := exec.Command(bin, "serve", "--db", db, "--addr", addr, "--packs", packsDir(t),
			"--allow-loopback-partners=true", "--admin-token", adminToken, "--log-format", "text", "--log-level", "error",
			"--event-sweep-after", "2s")
		cmd.Env = append(append(os.Environ(), ps.env...), "ACCORD_MASTER_KEY="+masterKey)
		cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
		dieWithParent(cmd)
		require.NoError(t, cmd.Start())
		cur = cmd
		waitReady(t, base)
	}
	t.Cleanup(func() {
		if cur != nil && cur.ProcessState == nil {
			_ = cur.Process.Signal(syscall.SIGKILL)
			_ = cur.Wait()
		}
	})
	serve()
	hdConn, _, _, _ := install(t, base, adminToken, tenantID, helpdeskToken, incidentsToken, chatToken, webhookSecret)
	hd.Subscribe(base+"/hooks/"+hdConn, webhookSecret)

	// Kill points: after these escalations, spread at random.
	var killAt []int
	for range kills {
		killAt = append(killAt, 1+rng.IntN(n))
	}
	slices.Sort(killAt)
	var ids []string
	for i := 1; i <= n; i++ {
		tk, err := hd.CreateTicket(sim.Ticket{Title: fmt.Sprintf("crash %d", i), Priority: []string{"low", "med", "high"}[rng.IntN(3)]})
		require.NoError(t, err)
		_, err = hd.Escalate(tk.ID)
		require.NoError(t, err)
		ids = append(ids, tk.ID)
		for len(killAt) > 0 && killAt[0] == i {
			killAt = killAt[1:]
			// Some work in flight first: a kill at a random moment of it.
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
			require.NoError(t, cur.Process.Signal(syscall.SIGKILL))
			_ = cur.Wait()
			serve()
		}
	}

	// Everything settles: progress, not a deadline, bounds the wait.
	done := func() bool {
		for _, id := range ids {
			if countIncidents(inc, id) == 0 {
				return false
			}
		}
		return len(chat.Messages(chatChannel)) >= n
	}
	ctx := untilStalled(t, 90*time.Second, func() string {
		return fmt.Sprintf("deliveries=%d incidents=%d messages=%d", len(hd.Deliveries()), inc.Count(), len(chat.Messages(chatChannel)))
	})
	for !done() && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	inc.ClearFaults()
	chat.ClearFaults()
	// Quiet for a while: no late duplicate may still be on its way.
	quiet := untilStalled(t, 3*time.Second, func() string {
		return fmt.Sprintf("%d/%d/%d", len(hd.Deliveries()), inc.Count(), len(chat.Messages(chatChannel)))
	})
	<-quiet.Done()
	require.NoError(t, cur.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cur.Wait(), "a clean shutdown")

	accepted := map[string]bool{}
	duplicates := 0
	for _, d := range hd.Deliveries() {
		if d.OK {
			accepted[d.EventID] = true
		}
		if d.Duplicate {
			duplicates++
		}
	}
	states := eventStates(t, db)
	t.Logf("tally: %d escalations, %d kills, %d webhooks accepted (%d duplicate deliveries), %d incidents, %d messages, events by state/outcome %v, partner faults incidents %v chat %v",
		n, kills, len(accepted), duplicates, inc.Count(), len(chat.Messages(chatChannel)), states, inc.AppliedFaults(), chat.AppliedFaults())

	for _, id := range ids {
		require.Equal(t, 1, countIncidents(inc, id), "exactly one incident for %s", id)
	}
	require.Equal(t, n, inc.Count(), "no incident twice")
	require.Len(t, chat.Messages(chatChannel), n, "exactly one message per escalation")
	total := 0
	for k, v := range states {
		total += v
		require.Contains(t, []string{"done/applied", "done/filtered"}, k, "every accepted event ends applied (the escalation) or filtered (the creation)")
	}
	require.Equal(t, len(accepted), total, "every accepted webhook is one stored event with an outcome")
}

func countIncidents(inc *sim.Incidents, ticketID string) int {
	n := 0
	for _, in := range inc.Incidents() {
		if in.ExternalID == ticketID {
			n++
		}
	}
	return n
}

// eventStates counts the stored events by state/outcome.
func eventStates(t *testing.T, db string) map[string]int {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, &config.Config{DB: db}, nil)
	require.NoError(t, err)
	defer st.Close()
	out := map[string]int{}
	const q = `SELECT state, outcome, count(*) FROM events GROUP BY state, outcome`
	// *sql.Rows and pgx.Rows share what counting needs.
	var rows interface {
		Next() bool
		Scan(dest ...any) error
		Err() error
	}
	switch d := st.Driver().(type) {
	case *sql.DB:
		r, err := d.QueryContext(ctx, q)
		require.NoError(t, err)
		defer r.Close()
		rows = r
	case *pgxpool.Pool:
		r, err := d.Query(ctx, q)
		require.NoError(t, err)
		defer r.Close()
		rows = r
	default:
		t.Fatalf("unknown driver %T", d)
	}
	for rows.Next() {
		var s, o string
		var n int
		require.NoError(t, rows.Scan(&s, &o, &n))
		out[s+"/"+o] += n
	}
	require.NoError(t, rows.Err())
	return out
}
