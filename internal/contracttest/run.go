package contracttest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store/sqlite"
)

// Config configures Run. Only Providers is required.
type Config struct {
	// Providers are the manifests the contract may name: the catalog's and
	// its pack's (see LoadContract).
	Providers map[string]*spec.Provider
	// Record runs the cases that name a cassette against the partners and
	// writes what they answered to it, instead of replaying it. Default
	// false.
	Record bool
	// Sandboxes are the partner accounts that recording, and Live, send
	// to, by provider. A provider without one is answered by its mock,
	// recorded or not.
	Sandboxes map[string]Sandbox
	// Live sends every case's requests to the Sandboxes (dryrun --live),
	// not only the recorded ones'. Default false.
	Live bool
	// AllowLoopback lets a sandbox be on 127.0.0.0/8 or ::1 (simulators,
	// local fakes); like allow_loopback_partners, it is off by default.
	AllowLoopback bool
	// Logger receives the engine's logs. Default: discarded.
	Logger *slog.Logger
	// Now is when every case starts. Default time.Now.
	Now func() time.Time
	// StepTimeout bounds the wait for the engine to finish one event.
	// Default 30s.
	StepTimeout time.Duration
	// TempDir holds the run's throwaway database. Default os.TempDir().
	TempDir string
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Config) stepTimeout() time.Duration {
	if c.StepTimeout > 0 {
		return c.StepTimeout
	}
	return 30 * time.Second
}

// Report is what a run found, case by case.
type Report struct {
	File  string
	Cases []CaseReport
}

// CaseReport is one case's result: no failures means it passed.
type CaseReport struct {
	Name     string
	Pos      Pos
	Failures []string
}

// Failed counts the failed cases.
func (r *Report) Failed() int {
	n := 0
	for _, c := range r.Cases {
		if len(c.Failures) > 0 {
			n++
		}
	}
	return n
}

// Print writes the report: one line per passing case, the failures with
// their positions and diffs.
func (r *Report) Print(w io.Writer) {
	for _, c := range r.Cases {
		if len(c.Failures) == 0 {
			fmt.Fprintf(w, "ok    %s\n", c.Name)
			continue
		}
		fmt.Fprintf(w, "FAIL  %s (%s:%d:%d)\n", c.Name, r.File, c.Pos.Line, c.Pos.Col)
		for _, f := range c.Failures {
			fmt.Fprintf(w, "      %s\n", indent(f, "      "))
		}
	}
}

// Run runs every case of s against cfg's partners. An error means the
// run itself could not go on (no database); a case that fails is in the
// report.
func Run(ctx context.Context, s *Suite, c *spec.Contract, cfg *Config) (*Report, error) {
	st, done, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer done()
	rep := &Report{File: s.File}
	for i, tc := range s.Cases {
		cr := CaseReport{Name: tc.Name, Pos: tc.Pos}
		// Each case is a tenant of its own: nothing one writes is seen by
		// the next.
		cr.Failures = runCase(ctx, cfg, st, c, s, tc, fmt.Sprintf("ten_case_%d", i+1))
		rep.Cases = append(rep.Cases, cr)
	}
	return rep, nil
}

// openStore opens a migrated throwaway database; done removes it.
func openStore(ctx context.Context, cfg *Config) (st *sqlite.Store, done func(), err error) {
	dir, err := os.MkdirTemp(cfg.TempDir, "accord-test-")
	if err != nil {
		return nil, nil, fmt.Errorf("creating the test database directory: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	// Durability buys nothing here.
	st, err = sqlite.Open(ctx, filepath.Join(dir, "accord.db"), &sqlite.Config{Synchronous: sqlite.SynchronousNormal, Logger: cfg.logger()})
	if err != nil {
		return nil, nil, fmt.Errorf("opening the test database: %w", err)
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, nil, fmt.Errorf("migrating the test database: %w", err)
	}
	return st, func() { _ = st.Close(); _ = os.RemoveAll(dir) }, nil
}

func runCase(ctx context.Context, cfg *Config, st *sqlite.Store, c *spec.Contract, s *Suite, tc *Case, tenant string) (failures []string) {
	if tc.Cassette != "" && !cfg.Record {
		if _, err := os.Stat(tc.Cassette); err != nil {
			return []string{fmt.Sprintf("cassette %s is missing: record it with accord test --record", tc.Cassette)}
		}
	}
	h, err := newHarness(ctx, cfg, st, c, tenant, tc.Cassette)
	if err != nil {
		return []string{err.Error()}
	}
	defer func() {
		if err := h.close(); err != nil {
			failures = append(failures, err.Error())
		}
	}()
	for key, recs := range tc.Records {
		provider, object, _ := cutLast(key)
		m := h.mocks[provider]
		if m == nil {
			return []string{fmt.Sprintf("records %s: the contract does not use provider %s", key, provider)}
		}
		if err := m.Seed(object, recs); err != nil {
			return []string{fmt.Sprintf("records %s: %v", key, err)}
		}
	}
	for _, f := range tc.Faults {
		m := h.mocks[f.Provider]
		if m == nil || m.p.Objects[f.Object] == nil {
			return []string{fmt.Sprintf("%s:%d:%d: fault on %s.%s: the contract's providers have no such object", s.File, f.Pos.Line, f.Pos.Col, f.Provider, f.Object)}
		}
		m.Fail(f.Fault)
	}
	for i, step := range tc.Steps {
		where := fmt.Sprintf("step %d (%s:%d:%d)", i+1, s.File, step.Pos.Line, step.Pos.Col)
		res, err := h.send(ctx, step)
		if err != nil {
			return append(failures, fmt.Sprintf("%s: %v", where, err))
		}
		for _, f := range check(step.Expect, res) {
			failures = append(failures, where+": "+f)
		}
	}
	switch n, err := h.unplayed(); {
	case err != nil:
		failures = append(failures, err.Error())
	case n > 0:
		failures = append(failures, fmt.Sprintf("%d exchange%s recorded in %s %s not requested: the contract changed since the recording; record it again with accord test --record", n, plural(n, "", "s"), tc.Cassette, plural(n, "was", "were")))
	}
	return failures
}

func cutLast(key string) (string, string, bool) {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '.' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
