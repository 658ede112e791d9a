package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/syncer"
	"github.com/accordhq/accord/internal/telemetry"
	"github.com/accordhq/accord/internal/web/api"
)

// A command of its own rather than a flag of `accord bench`: lookup
// prefers the two-word name, so bench.go needs no hook.
func init() {
	register(&command{
		name:    "bench sync",
		summary: "measure one-way incremental sync and reconciliation of N records against a simulator's list rate",
		usage:   "[--records 100000] [--db sqlite:PATH] [--cpuprofile FILE]",
		example: "accord bench sync --records 100000",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			o := benchSyncOptions{}
			fs.IntVar(&o.records, "records", 100_000, "records in the source simulator, all synced in one run")
			fs.StringVar(&o.db, "db", "", "database: sqlite:PATH or an empty PostgreSQL database (default: a fresh SQLite file in a temporary directory)")
			fs.StringVar(&o.synchronous, "sqlite-synchronous", "FULL", "SQLite durability: FULL or NORMAL")
			fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the sync run, from install until every write is final")
			fs.BoolVar(&o.reconcile, "reconcile", true, "also reconcile the N pairs the run made")
			fs.StringVar(&o.reconcileProfile, "reconcile-cpuprofile", "", "write a CPU profile (pprof) of the reconciliation (with --reconcile-child=false)")
			fs.BoolVar(&o.reconcileChild, "reconcile-child", true, "reconcile in an accord serve of its own on the same database, so its peak RSS is Accord's alone; false: in this process, the simulators' objects included")
			fs.StringVar(&o.logLevel, "log-level", "", "Accord's log level on stderr (debug, info, warn, error); default silent")
			fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up after this long")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("unexpected arguments %q", args)
				}
				if o.records < 1 {
					return errors.New("--records must be positive")
				}
				return runBenchSync(ctx, env, o)
			}
		},
	})
}

type benchSyncOptions struct {
	records                     int
	db, synchronous, cpuProfile string
	reconcileProfile            string
	logLevel                    string
	reconcile, reconcileChild   bool
	timeout                     time.Duration
}

// benchSyncResult is what one `accord bench sync` measured.
type benchSyncResult struct {
	Records int
	// Ceiling: the source's list endpoint paged through by a plain HTTP
	// client (decoding each page), before Accord starts and after it is
	// done.
	CeilingBefore, CeilingAfter time.Duration
	// Listed: the sync run's start to its last page committed (every
	// record stored as an event with its delivery job).
	Listed time.Duration
	// Applied: the run's start to the last record's write answered by
	// the target and its outcome final (link committed).
	Applied   time.Duration
	Outcomes  map[string]int
	Written   int
	Reconcile *benchReconcile
}

type benchReconcile struct {
	Wall           time.Duration
	RSSBefore      int64 // bytes, VmRSS just before
	PeakRSS        int64 // bytes, VmHWM during the reconciliation
	Listed, Paired int
	Diffs          int
	Complete       bool
	// SinceStart: the peak could not be reset, so it covers the whole
	// process's life, backfill included.
	SinceStart bool
	// Child: measured in an `accord serve` of its own (Accord alone).
	Child bool
}

// The bench's own pack: a source listed on a schedule (a HubSpot-shaped
// CRM simulator) and a target written once per record (a second one).
// Neither manifest sets a rate limit and both simulators run without one:
// the bench measures Accord, not a partner's budget.
const (
	benchSourceManifest = `accord: provider/v1
name: bench-source
title: Bench source
base_url: ${BENCH_SOURCE_URL}
auth: {kind: bearer}
errors: {message: message}
pagination: {style: cursor, param: after, next: paging.next.after, limit_param: limit, limit: 100}
objects:
  company:
    version: hs_lastmodifieddate
    updated_at: hs_lastmodifieddate
    fields:
      id: {type: string, read_only: true}
      name: {type: string}
      domain: {type: string}
      hs_lastmodifieddate: {type: timestamp, read_only: true}
    endpoints:
      list: {method: GET, path: /crm/v3/objects/companies, items: results, item: properties, id_path: id, since: updatedSince}
`
	benchTargetManifest = `accord: provider/v1
name: bench-target
title: Bench target
base_url: ${BENCH_TARGET_URL}
auth: {kind: bearer}
errors: {message: message}
pagination: {style: cursor, param: after, next: paging.next.after, limit_param: limit, limit: 100}
objects:
  account:
    fields:
      id: {type: string, read_only: true}
      name: {type: string}
      domain: {type: string}
      source_id: {type: string}
    endpoints:
      list: {method: GET, path: /crm/v3/objects/companies, items: results, item: properties, id_path: id}
      create: {method: POST, path: /crm/v3/objects/companies, body: properties, item: properties, id_path: id}
      update: {method: PATCH, path: "/crm/v3/objects/companies/{id}", body: properties, item: properties, id_path: id}
`
	benchContract = `accord: contract/v1
name: bench-sync
version: 1.0.0
title: Copy every source company to the target
story: As a benchmark, every company listed at the source becomes one account at the target.
providers: [bench-source, bench-target]
direction: one_way
boundaries: {backfill: 3650d}
triggers:
  company:
    schedule: {provider: bench-source, object: company, every: 24h}
actions:
  - {name: account, trigger: company, provider: bench-target, object: account, op: create,
     duplicates: {policy: tolerated, reason: "a benchmark target; the count of objects it holds is checked"}, mapping: [
      {to: name, from: company.name}, {to: domain, from: company.domain}, {to: source_id, from: company.id}]}
`
	benchPack = `accord: pack/v1
name: bench-sync
title: Sync benchmark
description: One-way incremental sync from a simulator, for accord bench sync.
contracts: [bench-sync]
`
	benchToken  = "bench-sim-token"
	benchTenant = "bench"
)

func runBenchSync(ctx context.Context, env *Env, o benchSyncOptions) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "accord-bench-sync-")
	if err != nil {
		return fmt.Errorf("bench sync: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := writeBenchPack(filepath.Join(dir, "packs", "bench-sync")); err != nil {
		return err
	}
	if o.db == "" {
		o.db = "sqlite:" + filepath.Join(dir, "accord.db")
	}

	// No simulator rate limit on either side (RateLimit < 0).
	source := sim.NewCRM(&sim.Config{Token: benchToken, RateLimit: -1})
	defer source.Stop()
	target := sim.NewCRM(&sim.Config{Token: benchToken, RateLimit: -1})
	defer target.Stop()
	for i := range o.records {
		source.CreateCompany(map[string]string{"name": "Company " + strconv.Itoa(i), "domain": "c" + strconv.Itoa(i) + ".example"})
	}
	srcURL, err := source.Start(ctx, "127.0.0.1:0")
	if err != nil {
		return err
	}
	tgtURL, err := target.Start(ctx, "127.0.0.1:0")
	if err != nil {
		return err
	}
	res := benchSyncResult{Records: o.records, Outcomes: map[string]int{}}
	if res.CeilingBefore, err = benchListCeiling(ctx, srcURL, o.records); err != nil {
		return err
	}

	key, err := credential.GenerateMasterKey()
	if err != nil {
		return err
	}
	partners := map[string]string{"BENCH_SOURCE_URL": srcURL, "BENCH_TARGET_URL": tgtURL}
	a, finals, err := startBenchAccord(ctx, env, o, dir, key, partners)
	if err != nil {
		return err
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return a.Stop(stopCtx)
	}
	defer stop()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("bench sync: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench sync: %w", err)
		}
		defer pprof.StopCPUProfile() // a no-op once stopped below
	}
	admin := &api.Client{BaseURL: "http://" + a.Addr(), Token: demoAdminToken}
	if _, err := admin.CreateTenant(ctx, benchTenant, "Bench"); err != nil {
		return fmt.Errorf("bench sync: %w", err)
	}
	inst, _, err := admin.InstallContract(ctx, benchTenant, "bench-sync", map[string]api.ConnectionInput{
		"bench-source": {APIKey: benchToken}, "bench-target": {APIKey: benchToken},
	})
	if err != nil {
		return fmt.Errorf("bench sync: installing: %w", err)
	}

	// The planner starts the first run (the backfill) by itself; its
	// start and completion are the sync state's own timestamps.
	var st store.SyncState
	err = benchPoll(ctx, 20*time.Millisecond, func() (bool, error) {
		st, err = a.Store.GetSyncState(ctx, benchTenant, inst.ID, "company")
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil && st.Runs >= 1 && !st.Running, err
	})
	if err != nil {
		return fmt.Errorf("bench sync: waiting for the run: %w", err)
	}
	res.Listed = st.LastCompletedAt.Sub(st.RunStartedAt)
	if st.RunRecords != int64(o.records) {
		return fmt.Errorf("bench sync: the run listed %d records, want %d", st.RunRecords, o.records)
	}
	if err := benchPoll(ctx, 20*time.Millisecond, func() (bool, error) { return finals.count() >= o.records, nil }); err != nil {
		return fmt.Errorf("bench sync: waiting for the writes (%d of %d final): %w", finals.count(), o.records, err)
	}
	pprof.StopCPUProfile()
	res.Applied = finals.last().Sub(st.RunStartedAt)
	res.Outcomes = finals.outcomes()
	res.Written = target.Count()

	if o.reconcile {
		var rec *benchReconcile
		if o.reconcileChild {
			// The child opens the same SQLite file: this process lets go first.
			if err := stop(); err != nil {
				return fmt.Errorf("bench sync: stopping accord: %w", err)
			}
			rec, err = benchReconcileChild(ctx, env, o, dir, key, partners, inst.ID)
		} else {
			rec, err = benchReconcileRun(ctx, admin, inst.ID, o.reconcileProfile)
		}
		if err != nil {
			return err
		}
		res.Reconcile = rec
	}
	if res.CeilingAfter, err = benchListCeiling(ctx, srcURL, o.records); err != nil {
		return err
	}
	dialect, _, _ := config.ParseDB(o.db)
	printBenchSync(env.Stdout, res, dialect, o.synchronous)
	return nil
}

func writeBenchPack(dir string) error {
	for name, body := range map[string]string{
		"pack.yaml": benchPack, "contracts/bench-sync.yaml": benchContract,
		"providers/bench-source.yaml": benchSourceManifest, "providers/bench-target.yaml": benchTargetManifest,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("bench sync: %w", err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			return fmt.Errorf("bench sync: %w", err)
		}
	}
	return nil
}

// benchFinals records each event's final outcome and when the last came.
type benchFinals struct {
	mu   sync.Mutex
	n    atomic.Int64
	at   time.Time
	outs map[string]int
}

func (f *benchFinals) record(_ store.Event, outcome string) {
	f.mu.Lock()
	f.at = time.Now()
	f.outs[outcome]++
	f.mu.Unlock()
	f.n.Add(1)
}

func (f *benchFinals) count() int { return int(f.n.Load()) }

func (f *benchFinals) last() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at
}

func (f *benchFinals) outcomes() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.outs))
	for k, v := range f.outs {
		out[k] = v
	}
	return out
}

// startBenchAccord starts Accord as `accord serve` would (the process
// defaults), with the bench's pack and the simulators' URLs.
func startBenchAccord(ctx context.Context, env *Env, o benchSyncOptions, dir, key string, partners map[string]string) (*app.App, *benchFinals, error) {
	cfg := config.Defaults()
	cfg.DB, cfg.MasterKey, cfg.Addr = o.db, key, "127.0.0.1:0"
	cfg.Packs = filepath.Join(dir, "packs")
	cfg.AllowLoopbackPartners = true
	cfg.AdminToken = demoAdminToken
	cfg.SQLiteSynchronous = o.synchronous
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("bench sync: %w", err)
	}
	logger := slog.New(slog.DiscardHandler)
	if o.logLevel != "" {
		logger = telemetry.NewLogger(env.Stderr, "text", o.logLevel)
	}
	finals := &benchFinals{outs: map[string]int{}}
	a, err := app.New(ctx, cfg, logger, &app.Options{
		Engine: &engine.Config{Connector: &connector.Config{AllowLoopback: true, Timeout: 30 * time.Second,
			LookupEnv: func(k string) (string, bool) { v, ok := partners[k]; return v, ok }}},
		OnEventFinal: finals.record,
		// Plan often, so the backfill starts soon after the install; the
		// measurement starts with the run, not the install.
		Syncer: &syncer.Config{PlanInterval: time.Second},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("bench sync: building accord: %w", err)
	}
	if err := a.Start(ctx); err != nil {
		_ = a.Stop(context.Background())
		return nil, nil, fmt.Errorf("bench sync: starting accord: %w", err)
	}
	return a, finals, nil
}

// benchListCeiling pages through the source's list endpoint as fast as a
// plain HTTP client can (one keep-alive connection, each page decoded),
// and returns how long all n records took.
func benchListCeiling(ctx context.Context, base string, n int) (time.Duration, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now()
	seen, after := 0, ""
	for {
		q := url.Values{"limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/crm/v3/objects/companies?"+q.Encode(), nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+benchToken)
		resp, err := client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("bench sync: listing the source: %w", err)
		}
		var page struct {
			Results []map[string]any `json:"results"`
			Paging  struct {
				Next struct {
					After string `json:"after"`
				} `json:"next"`
			} `json:"paging"`
		}
		err = json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&page)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("bench sync: listing the source: status %d: %v", resp.StatusCode, err)
		}
		seen += len(page.Results)
		if after = page.Paging.Next.After; after == "" {
			break
		}
	}
	if seen != n {
		return 0, fmt.Errorf("bench sync: the source listed %d records, want %d", seen, n)
	}
	return time.Since(start), nil
}

// benchReconcileRun reconciles the installation through the admin API and
// reads the process's peak resident memory while it ran.
func benchReconcileRun(ctx context.Context, admin *api.Client, inst, profile string) (*benchReconcile, error) {
	// Start from a collected heap and a reset peak, so VmHWM is the peak
	// during the reconciliation, not the backfill before it.
	runtime.GC()
	debug.FreeOSMemory()
	out := &benchReconcile{}
	// Without the reset (an older kernel), the peak covers the whole run.
	out.SinceStart = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) != nil
	out.RSSBefore, _ = procStatus("self", "VmRSS")
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return nil, fmt.Errorf("bench sync: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("bench sync: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := benchReconcileWait(ctx, admin, inst)
	if err != nil {
		return nil, err
	}
	peak, err := procStatus("self", "VmHWM")
	if err != nil {
		return nil, fmt.Errorf("bench sync: %w", err)
	}
	out.PeakRSS = peak
	out.add(rep)
	return out, nil
}

func (out *benchReconcile) add(rep syncer.Report) {
	out.Wall = rep.FinishedAt.Sub(rep.StartedAt)
	out.Complete = rep.Complete
	for _, or := range rep.Objects {
		out.Listed += or.Listed
		out.Paired += or.Paired
		for _, n := range or.Diffs {
			out.Diffs += n
		}
	}
}

// benchReconcileWait asks for a reconciliation and waits for its report.
func benchReconcileWait(ctx context.Context, admin *api.Client, inst string) (syncer.Report, error) {
	if err := admin.Reconcile(ctx, benchTenant, inst); err != nil {
		return syncer.Report{}, fmt.Errorf("bench sync: reconciling: %w", err)
	}
	var rep syncer.Report
	err := benchPoll(ctx, 20*time.Millisecond, func() (bool, error) {
		rep = syncer.Report{}
		err := admin.GetReconciliation(ctx, benchTenant, inst, &rep)
		var ce *api.ClientError
		if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
			return false, nil
		}
		return err == nil && !rep.FinishedAt.IsZero(), err
	})
	if err != nil {
		return rep, fmt.Errorf("bench sync: waiting for the reconciliation: %w", err)
	}
	return rep, nil
}

// benchReconcileChild reconciles in an `accord serve` of its own on the
// same database (this binary, configured through the environment), so
// its VmHWM is Accord's alone: the simulators and their objects stay in
// this process. The peak covers the child's whole life, start-up and an
// idle job queue included, of which the reconciliation is nearly all.
func benchReconcileChild(ctx context.Context, env *Env, o benchSyncOptions, dir, key string, partners map[string]string, inst string) (*benchReconcile, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench sync: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench sync: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, exe, "serve")
	cmd.Env = append(os.Environ(), "ACCORD_DB="+o.db, "ACCORD_ADDR="+addr, "ACCORD_PACKS="+filepath.Join(dir, "packs"),
		"ACCORD_MASTER_KEY="+key, "ACCORD_ADMIN_TOKEN="+demoAdminToken, "ACCORD_ALLOW_LOOPBACK_PARTNERS=true",
		"ACCORD_SQLITE_SYNCHRONOUS="+o.synchronous, "ACCORD_LOG_LEVEL=warn", "ACCORD_LOG_FORMAT=text")
	for k, v := range partners {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, env.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench sync: starting accord serve: %w", err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	base := "http://" + addr
	err = benchPoll(ctx, 20*time.Millisecond, func() (bool, error) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench sync: waiting for accord serve: %w", err)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	out := &benchReconcile{Child: true}
	out.RSSBefore, _ = procStatus(pid, "VmRSS")
	rep, err := benchReconcileWait(ctx, &api.Client{BaseURL: base, Token: demoAdminToken}, inst)
	if err != nil {
		return nil, err
	}
	if out.PeakRSS, err = procStatus(pid, "VmHWM"); err != nil {
		return nil, fmt.Errorf("bench sync: %w", err)
	}
	out.add(rep)
	return out, nil
}

// procStatus reads a kB field of /proc/<pid>/status, in bytes.
func procStatus(pid, field string) (int64, error) {
	raw, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%s/status", field, pid)
}

func benchPoll(ctx context.Context, every time.Duration, done func() (bool, error)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func printBenchSync(w io.Writer, r benchSyncResult, dialect, synchronous string) {
	rate := func(d time.Duration) float64 { return float64(r.Records) / d.Seconds() }
	ceiling := rate(r.CeilingBefore)
	if dialect == "sqlite" {
		dialect += " (synchronous " + synchronous + ")"
	}
	fmt.Fprintf(w, "accord bench sync: %d records on %s, %d CPUs; Accord and both simulators in one process.\n", r.Records, dialect, runtime.NumCPU())
	fmt.Fprintf(w, "Source: a CRM simulator (no rate limit, pages of 100). Target: a second CRM simulator (no rate limit), one create per record.\n\n")
	fmt.Fprintf(w, "  %-10s %-62s %8.2f s  %8.0f records/s\n", "ceiling", "plain HTTP client paging the source's list (before Accord)", r.CeilingBefore.Seconds(), ceiling)
	fmt.Fprintf(w, "  %-10s %-62s %8.2f s  %8.0f records/s  %5.1f%% of ceiling\n", "listed", "sync run start → last page committed (every record an event)", r.Listed.Seconds(), rate(r.Listed), 100*rate(r.Listed)/ceiling)
	fmt.Fprintf(w, "  %-10s %-62s %8.2f s  %8.0f records/s  %5.1f%% of ceiling\n", "applied", "sync run start → every record's write answered, outcome final", r.Applied.Seconds(), rate(r.Applied), 100*rate(r.Applied)/ceiling)
	fmt.Fprintf(w, "  %-10s %-62s %8.2f s  %8.0f records/s\n", "ceiling", "the same, after Accord is done (how much the machine moved)", r.CeilingAfter.Seconds(), rate(r.CeilingAfter))
	fmt.Fprintf(w, "\n  outcomes %v; target holds %d objects\n", r.Outcomes, r.Written)
	if rc := r.Reconcile; rc != nil {
		fmt.Fprintf(w, "\n  reconcile  %d pairs: %d objects listed on both sides, %d paired, %d diffs, complete %v\n", r.Records, rc.Listed, rc.Paired, rc.Diffs, rc.Complete)
		switch {
		case rc.Child:
			fmt.Fprintf(w, "             wall %.2f s (the report's start to finish); peak RSS %.0f MB (VmHWM of an `accord serve` of its own\n", rc.Wall.Seconds(), float64(rc.PeakRSS)/(1<<20))
			fmt.Fprintf(w, "             on the same database, from its start: Accord alone, the simulators are in this process; %.0f MB when ready)\n", float64(rc.RSSBefore)/(1<<20))
		default:
			during := "during the reconciliation"
			if rc.SinceStart {
				during = "since the process started: the peak could not be reset"
			}
			fmt.Fprintf(w, "             wall %.2f s (the report's start to finish); peak RSS %.0f MB (VmHWM of this whole process\n", rc.Wall.Seconds(), float64(rc.PeakRSS)/(1<<20))
			fmt.Fprintf(w, "             %s: Accord, River and both simulators holding %d objects; RSS before it %.0f MB)\n", during, 2*r.Records, float64(rc.RSSBefore)/(1<<20))
		}
	}
	fmt.Fprintln(w, "\nThe machine may be shared: compare each rate with the ceiling of the same run.")
}
