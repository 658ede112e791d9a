package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDemoRunsForDurationAndCreatesIncidents(t *testing.T) {
	t.Parallel()
	var out, errOut strings.Builder
	code := Run(t.Context(), []string{"demo", "--duration", "4s", "--addr", "127.0.0.1:0", "--packs", "../../packs",
		"--db", "sqlite:" + t.TempDir() + "/demo.db", "--rate", "5", "--fault-rate", "0"},
		&Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) (string, bool) { return "", false }})
	require.Equal(t, 0, code, "stderr: %s", errOut.String())
	require.Contains(t, out.String(), "demo-admin-token")
	require.Contains(t, out.String(), "/metrics")
	m := regexp.MustCompile(`stopping\. tickets escalated: (\d+), incidents created: (\d+)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, "final summary in:\n%s", out.String())
	escalated, _ := strconv.Atoi(m[1])
	incidents, _ := strconv.Atoi(m[2])
	require.Positive(t, incidents)
	require.LessOrEqual(t, incidents, escalated, "never more incidents than escalations")
}

func TestSimCommandServesUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"sim", "chat", "--addr", "127.0.0.1:0", "--token", "t0ken"}, &Env{Stdout: pw, Stderr: io.Discard})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	require.NotEmpty(t, url, "first line: %q", line)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/channels/ops/messages", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the simulator accepts the --token")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code)
	case <-time.After(10 * time.Second):
		t.Fatal("accord sim did not stop on cancel")
	}
}

func TestSimCommandRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	var errOut strings.Builder
	code := Run(t.Context(), []string{"sim", "incidents", "--addr", "0.0.0.0:0"}, &Env{Stdout: io.Discard, Stderr: &errOut})
	require.Equal(t, 1, code)
	require.Contains(t, errOut.String(), "127.0.0.1")
}

// TestDemoNeedsNoPacksDirAndCleansUp: the shipped packs are in the binary,
// each simulator's token is printed next to its URL, and the temporary
// database directory is removed on exit.
func TestDemoNeedsNoPacksDirAndCleansUp(t *testing.T) {
	t.Parallel()
	var out, errOut strings.Builder
	code := Run(t.Context(), []string{"demo", "--duration", "6s", "--addr", "127.0.0.1:0", "--rate", "5", "--fault-rate", "0"},
		&Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) (string, bool) { return "", false }})
	require.Equal(t, 0, code, "stderr: %s", errOut.String())
	require.Equal(t, 3, strings.Count(out.String(), "(token sim-token)"), out.String())
	m := regexp.MustCompile(`database sqlite:(\S+)/accord-demo\.db\)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	_, err := os.Stat(m[1])
	require.ErrorIs(t, err, os.ErrNotExist, "the demo's temporary directory is removed")
}

func TestNoCommandPrintsHelpAndSucceeds(t *testing.T) {
	t.Parallel()
	var out, errOut strings.Builder
	code := Run(t.Context(), nil, &Env{Stdout: &out, Stderr: &errOut})
	require.Equal(t, 0, code)
	require.Contains(t, out.String(), "demo")
}

func TestMigrateHelpListsItsOwnFlags(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	code := Run(t.Context(), []string{"help", "migrate"}, &Env{Stdout: &out, Stderr: &out})
	require.Equal(t, 0, code)
	require.Contains(t, out.String(), "-db")
	require.NotContains(t, out.String(), "-webhook-max-bytes-in-flight")
}
