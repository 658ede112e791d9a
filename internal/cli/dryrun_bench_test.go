package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDryrun is what an author waits for after `accord dryrun`: the
// whole command in process (loading the contract, its pack and the
// catalog, matching, mapping, rendering the requests) on the shipped
// escalation contract, beside the baseline of the same harness running
// `accord version`. The bound is 200 ms per run.
//
//	go test ./internal/cli -run '^$' -bench Dryrun -benchtime 20x
func BenchmarkDryrun(b *testing.B) {
	dir := b.TempDir()
	ticket := filepath.Join(dir, "ticket.json")
	if err := os.WriteFile(ticket, []byte(`{"id":"evt_1","type":"ticket.updated","data":{"id":"T-42","title":"Checkout down",`+
		`"description":"Customers cannot pay","priority":"high","status":"escalated","url":"https://helpdesk.example/tickets/T-42","version":3}}`), 0o600); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
	}{
		{"baseline_version", []string{"version"}},
		{"escalation", []string{"dryrun", "--contract", escalationContract, "--event", ticket}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			env := &Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) (string, bool) { return "", false }}
			for b.Loop() {
				env.Stdout.(*bytes.Buffer).Reset()
				if code := Run(context.Background(), tc.args, env); code != 0 {
					b.Fatalf("exit %d: %s", code, env.Stderr)
				}
			}
		})
	}
}
