package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// rssMiB reads a process's resident set size.
func rssMiB(t *testing.T, pid int) float64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("reading RSS needs /proc (Linux): %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			require.NoError(t, err)
			return kb / 1024
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// TestSlowSendersCannotPinMemory: 1,000 unauthenticated connections declare
// a 1 MiB body to one hook URL and trickle it a byte at a time. Ingress used
// to allocate the declared length and buffer it before verifying the
// signature (1,000 of them took RSS to 1.3 GB). While they hang on,
// another tenant's partner keeps getting 2xx, and the process stays under
// 200 MB.
func TestSlowSendersCannotPinMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 connections to a real accord serve")
	}
	t.Parallel()
	bin := accordBinary(t)
	dir := t.TempDir()
	key, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	addr := freeAddr(t)
	base := "http://" + addr
	cmd := exec.Command(bin, "serve", "--db", "sqlite:"+filepath.Join(dir, "accord.db"), "--addr", addr, "--packs", packsDir(t),
		"--allow-loopback-partners=true", "--admin-token", adminToken, "--log-format", "text", "--log-level", "error")
	cmd.Env = append(os.Environ(), "ACCORD_MASTER_KEY="+key, "HELPDESK_URL=http://127.0.0.1:9", "INCIDENTS_URL=http://127.0.0.1:9", "CHAT_URL=http://127.0.0.1:9")
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	dieWithParent(cmd)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	waitReady(t, base)
	victim, _, _, _ := install(t, base, adminToken, "victim", helpdeskToken, incidentsToken, chatToken, webhookSecret)
	other, _, _, _ := install(t, base, adminToken, "bystander", helpdeskToken, incidentsToken, chatToken, webhookSecret)
	idle := rssMiB(t, cmd.Process.Pid)

	const slow = 1000
	stop := make(chan struct{})
	var wg sync.WaitGroup
	opened := make(chan struct{}, slow)
	for range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /hooks/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", victim, addr, 1<<20)
			opened <- struct{}{}
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := c.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
	}
	for range slow {
		<-opened
	}

	scheme, err := signature.New("standard-webhooks", signature.Options{})
	require.NoError(t, err)
	peak := 0.0
	for i := range 20 {
		id := fmt.Sprintf("evt_by_%d", i)
		body, err := json.Marshal(map[string]any{"id": id, "type": "ticket.updated", "timestamp": time.Now().UTC(),
			"data": map[string]any{"id": "T-1", "title": "Bystander", "status": "open", "url": "http://example.invalid/T-1", "version": i + 1}})
		require.NoError(t, err)
		h, err := scheme.Sign(body, []byte(webhookSecret), time.Now(), id)
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/hooks/"+other, bytes.NewReader(body))
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode, "a legitimate webhook of another tenant during the attack")
		peak = max(peak, rssMiB(t, cmd.Process.Pid))
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("RSS idle %.0f MiB, peak with %d slow senders %.0f MiB", idle, slow, peak)
	require.Less(t, peak, 200.0, "RSS stays under 200 MB")
}
