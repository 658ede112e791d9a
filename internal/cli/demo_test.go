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

// TestDemoCRMBillingCarriesBothWays runs the crm-billing demo until its
// progress line shows both directions at work: billing customers made CRM
// accounts, and an owner sales set in the CRM reached billing (which takes
// a CRM sync the demo asks for). It then stops the demo and checks the
// final summary: never more accounts than customers.
func TestDemoCRMBillingCarriesBothWays(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"demo", "--pack", "crm-billing", "--duration", "60s", "--addr", "127.0.0.1:0",
			"--db", "sqlite:" + t.TempDir() + "/demo.db", "--rate", "10", "--fault-rate", "0", "--progress", "250ms"},
			&Env{Stdout: pw, Stderr: &errOut, Getenv: func(string) (string, bool) { return "", false }})
		pw.Close()
	}()
	progress := regexp.MustCompile(`customers: (\d+), accounts: (\d+), owners set in CRM: \d+, owners carried to billing: (\d+)`)
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	carried := false
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if m := progress.FindStringSubmatch(line); m != nil && !carried {
			accounts, _ := strconv.Atoi(m[2])
			owners, _ := strconv.Atoi(m[3])
			if accounts > 0 && owners > 0 {
				carried = true
				cancel() // both ways seen: stop early
			}
		}
	}
	require.Equal(t, 0, <-done, "stderr: %s", errOut.String())
	require.True(t, carried, "an account was created and an owner reached billing before the demo ended:\n%s", out.String())
	require.Contains(t, out.String(), "/sync")
	require.Contains(t, out.String(), "accord_reconciliation_diffs_total")
	m := regexp.MustCompile(`stopping\. customers: (\d+), accounts: (\d+)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, "final summary in:\n%s", out.String())
	customers, _ := strconv.Atoi(m[1])
	accounts, _ := strconv.Atoi(m[2])
	require.Positive(t, accounts)
	require.LessOrEqual(t, accounts, customers, "one account per customer, never more")
}

func TestDemoUnknownPackNamesTheKnownOnes(t *testing.T) {
	t.Parallel()
	var errOut strings.Builder
	code := Run(t.Context(), []string{"demo", "--pack", "nope", "--addr", "127.0.0.1:0"}, &Env{Stdout: io.Discard, Stderr: &errOut})
	require.Equal(t, 1, code)
	require.Contains(t, errOut.String(), "crm-billing")
	require.Contains(t, errOut.String(), "support-escalation")
}
