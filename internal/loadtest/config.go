package loadtest

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/queue"
)

// Defaults for Config.
const (
	DefaultRate     = 500
	DefaultDuration = 10 * time.Second
	DefaultClients  = 64
	DefaultTenants  = 20
	DefaultWorkers  = 1000
	DefaultDrain    = 60 * time.Second
)

// Config describes one load run. The zero value is valid: 500 events/s for
// 10 s on a fresh SQLite file (synchronous FULL).
type Config struct {
	// DB is "sqlite:PATH" or a postgres:// DSN. Default: a SQLite file in
	// a temporary directory, removed afterwards. A PostgreSQL run works in
	// a schema of its own, created and dropped around the run.
	DB string

	// Rate is the open-loop send rate in events per second: event i is due
	// at start + i/Rate whether or not earlier ones were answered.
	// Default 500.
	Rate float64

	// Events is how many events to send. Default Rate × Duration.
	Events int

	// Duration sets Events when Events is zero. Default 10 s.
	Duration time.Duration

	// Clients is the size of the keep-alive client pool. It must be large
	// enough that a due event never waits for a free client (the table's
	// "late" column says when it did). Default 64.
	Clients int

	// Tenants spreads the events round-robin over this many tenants, each
	// with its own connections and installation. The incidents manifest
	// allows 50 requests/s per tenant, so one tenant cannot take 500
	// events/s without being throttled (by design); the default 20 keeps
	// each at 25/s. Default 20, or Rate/25 when that is more, so the
	// manifest's limit never caps the bench.
	Tenants int

	// Workers is the process's maximum concurrent jobs (accord.yaml
	// workers). Default 1000.
	Workers int

	// SQLiteSynchronous is FULL (default: fsync before a webhook is
	// acknowledged) or NORMAL.
	SQLiteSynchronous string

	// Queue overrides queue settings through app.Options.Queue; nil keeps
	// the queue package's defaults.
	Queue *queue.Config

	// Engine overrides engine settings; its Connector is always replaced
	// with one pointed at the simulators.
	Engine *engine.Config

	// Drain bounds the wait for the last incidents after the last send.
	// Events still without an incident then are counted as missing.
	// Default 60 s.
	Drain time.Duration

	// Packs is a packs directory added to the shipped ones. Default
	// empty: the packs built into the binary (support-escalation is one).
	Packs string

	// Logger receives Accord's logs. Default: discarded.
	Logger *slog.Logger

	// countOnly makes the run count final deliveries instead of timing
	// each: set by the backlog scenario, whose million events' times
	// would otherwise sit in the RSS it measures.
	countOnly bool
}

func (c *Config) withDefaults() (Config, error) {
	var out Config
	if c != nil {
		out = *c
	}
	if out.Rate == 0 {
		out.Rate = DefaultRate
	}
	if out.Duration == 0 {
		out.Duration = DefaultDuration
	}
	if out.Events == 0 {
		out.Events = int(out.Rate * out.Duration.Seconds())
	}
	if out.Clients == 0 {
		out.Clients = DefaultClients
	}
	if out.Tenants == 0 {
		// The incidents manifest allows 50 requests/s per tenant: at most
		// half of it per tenant, so the bench is never its own ceiling.
		out.Tenants = max(DefaultTenants, int(math.Ceil(out.Rate/25)))
	}
	if out.Workers == 0 {
		out.Workers = DefaultWorkers
	}
	if out.SQLiteSynchronous == "" {
		out.SQLiteSynchronous = "FULL"
	}
	if out.Drain == 0 {
		out.Drain = DefaultDrain
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if out.Rate <= 0 {
		errs = append(errs, fmt.Errorf("rate must be positive, got %g", out.Rate))
	}
	if out.Events < 1 {
		errs = append(errs, fmt.Errorf("events must be at least 1, got %d", out.Events))
	}
	if out.Clients < 1 {
		errs = append(errs, fmt.Errorf("clients must be at least 1, got %d", out.Clients))
	}
	if out.Tenants < 1 {
		errs = append(errs, fmt.Errorf("tenants must be at least 1, got %d", out.Tenants))
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("loadtest: config: %w", err)
	}
	return out, nil
}
