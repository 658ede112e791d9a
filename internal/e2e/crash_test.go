package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
)

// TestCrashBetweenPartnerCreateAndLinkWrite kills `accord serve` (SIGKILL)
// while the incident tool has created the incident but not yet answered,
// restarts it, and checks that the job is rescued and finishes with exactly
// one incident, now linked.
func TestCrashBetweenPartnerCreateAndLinkWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the accord binary and waits for River's rescuer")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := accordBinary(t)
	ps := startPartners(t, 1, 0)
	hd, inc, chat := ps.hd, ps.inc, ps.chat

	dbPath := filepath.Join(dir, "accord.db")
	addr := freeAddr(t) // fixed across the restart: the helpdesk keeps its subscription
	base := "http://" + addr
	serve := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--db", "sqlite:"+dbPath, "--addr", addr, "--packs", packsDir(t),
			"--allow-loopback-partners=true", "--admin-token", adminToken, "--log-format", "text", "--log-level", "warn",
			// The killed job is presumed lost after 2s, not the default hour.
			"--job-rescue-after", "2s", "--event-sweep-after", "2s")
		cmd.Env = append(os.Environ(), ps.env...)
		cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
		dieWithParent(cmd)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
			}
		})
		waitReady(t, base)
		return cmd
	}

	first := serve()
	hdConn, _, _, inst := install(t, base, adminToken, tenantID, helpdeskToken, incidentsToken, chatToken, webhookSecret)
	hd.Subscribe(base+"/hooks/"+hdConn, webhookSecret)

	// The incident is committed, then the answer is held until Accord dies.
	// POST only: the lookup by external id before the create goes through.
	require.NoError(t, inc.Inject(sim.Fault{Kind: sim.FaultHangAfter, Method: http.MethodPost, Delay: time.Hour}))
	tk, err := hd.CreateTicket(sim.Ticket{Title: "Crash in flight", Priority: "high"})
	require.NoError(t, err)
	_, err = hd.Escalate(tk.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return inc.Count() == 1 }, waitFor, 10*time.Millisecond, "the partner's create happened")
	require.Empty(t, chat.Messages(chatChannel), "the job is still inside the incident write")

	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()

	second := serve()
	// The chat action runs after the incident action in the same job: its
	// message shows the rescued job got past the incident write.
	require.Eventually(t, func() bool { return len(chat.Messages(chatChannel)) == 1 }, 2*time.Minute, 50*time.Millisecond,
		"the killed job was not rescued and run again")
	require.Equal(t, 1, inc.Count(), "exactly one incident: the retry found the first one")

	require.NoError(t, second.Process.Signal(syscall.SIGTERM))
	require.NoError(t, second.Wait(), "a clean shutdown")

	st, err := sqlite.Open(context.Background(), dbPath, nil)
	require.NoError(t, err)
	defer st.Close()
	link, err := st.GetLink(context.Background(), store.LinkKey{TenantID: tenantID, InstallationID: inst,
		SourceObject: "ticket", SourceID: tk.ID, TargetObject: "incidents.incident", Action: "create_incident"})
	require.NoError(t, err, "the link is recorded")
	require.Equal(t, inc.Incidents()[0].ID, link.TargetID)
	require.Equal(t, int64(2), link.Version)
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// waitReady waits for /readyz to answer 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, waitFor, 20*time.Millisecond, fmt.Sprintf("%s/readyz never answered 200", strings.TrimPrefix(base, "http://")))
}
