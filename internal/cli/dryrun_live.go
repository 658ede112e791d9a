package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/accordhq/accord/internal/contracttest"
	"github.com/accordhq/accord/internal/spec"
)

// dryRunLive sends the event through the engine on a throwaway database,
// its partner requests going to cfg's sandboxes (through the connector's
// guarded client), and prints each request with the answer.
func dryRunLive(ctx context.Context, w io.Writer, c *spec.Contract, b *spec.Bundle, payload map[string]any, eventType string, cfg *contracttest.Config) error {
	cfg.Providers = b.Providers
	sent, err := contracttest.Send(ctx, c, payload, eventType, cfg)
	if err != nil {
		return fmt.Errorf("sending live: %w", err)
	}
	fmt.Fprintln(w, "\nsent live (credentials redacted):")
	for _, x := range sent.Exchanges {
		where := "sandbox"
		if _, ok := cfg.Sandboxes[x.Provider]; !ok {
			where = "mock, no --connection"
		}
		fmt.Fprintf(w, "  %s %s %s (%s)\n", x.Provider, x.Method, x.Path, where)
		if x.Body != nil {
			j, _ := json.Marshal(x.Body)
			fmt.Fprintf(w, "    sent: %s\n", clip(string(j)))
		}
		if x.Err != "" {
			fmt.Fprintf(w, "    no answer: %s\n", x.Err)
			continue
		}
		j, _ := json.Marshal(x.Answer)
		fmt.Fprintf(w, "    answer %d: %s\n", x.Status, clip(string(j)))
	}
	if len(sent.Exchanges) == 0 {
		fmt.Fprintln(w, "  (no request)")
	}
	fmt.Fprintf(w, "outcome: %s", sent.Outcome)
	if sent.Outcome == "retry" {
		fmt.Fprintf(w, " (the engine would try again in %s)", sent.RetryAfter)
	}
	for _, class := range sent.RecordErrors {
		fmt.Fprintf(w, "; record error %s", class)
	}
	fmt.Fprintln(w)
	return nil
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// loadContractWithCatalog loads a contract with its pack's providers over
// the shipped provider catalog's, so a contract that names catalog
// providers (stripe, hubspot…) needs no manifest of its own.
func loadContractWithCatalog(path string) (*spec.Contract, *spec.Bundle, spec.Diagnostics) {
	catalog, err := contracttest.Catalog()
	if err != nil {
		return nil, nil, spec.Diagnostics{{File: path, Message: err.Error()}}
	}
	if _, err := os.Stat(path); err != nil {
		return nil, nil, spec.Diagnostics{{File: path, Message: fmt.Sprintf("cannot read: %v", err)}}
	}
	c, providers, diags := contracttest.LoadContract(path, catalog)
	if len(diags) > 0 {
		return nil, nil, diags
	}
	return c, &spec.Bundle{Providers: providers}, nil
}
