package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is the configuration of one Accord process. Each field's tags name
// its file key (yaml), environment variable (env) and flag (flag); usage is
// the help text, def the default.
type Config struct {
	DB string `yaml:"db" env:"ACCORD_DB" flag:"db" def:"sqlite:accord.db" usage:"database: sqlite:PATH or postgres://user@host:port/db"`

	Addr string `yaml:"addr" env:"ACCORD_ADDR" flag:"addr" def:"127.0.0.1:8080" usage:"HTTP listen address host:port"`

	Role string `yaml:"role" env:"ACCORD_ROLE" flag:"role" def:"all" usage:"what this process runs: api (HTTP only), worker (jobs only) or all"`

	LogFormat string `yaml:"log_format" env:"ACCORD_LOG_FORMAT" flag:"log-format" def:"json" usage:"log format: json or text"`

	LogLevel string `yaml:"log_level" env:"ACCORD_LOG_LEVEL" flag:"log-level" def:"info" usage:"log level: debug, info, warn or error"`

	NoMigrate bool `yaml:"no_migrate" env:"ACCORD_NO_MIGRATE" flag:"no-migrate" def:"false" usage:"do not apply database migrations on start (run 'accord migrate' yourself)"`

	Packs string `yaml:"packs" env:"ACCORD_PACKS" flag:"packs" def:"" usage:"directory of packs (each with providers/ and contracts/) added to the shipped ones, or replacing a shipped pack of the same name; empty: the shipped packs only"`

	SQLiteSynchronous string `yaml:"sqlite_synchronous" env:"ACCORD_SQLITE_SYNCHRONOUS" flag:"sqlite-synchronous" def:"FULL" usage:"SQLite durability: FULL (fsync before a webhook is acknowledged) or NORMAL (faster; a power loss may lose the last acknowledged writes)"`

	MasterKey string `yaml:"master_key" env:"ACCORD_MASTER_KEY" flag:"master-key" def:"" secret:"true" usage:"base64 32-byte master key that wraps tenant data keys (prefer master_key_file)"`

	MasterKeyFile string `yaml:"master_key_file" env:"ACCORD_MASTER_KEY_FILE" flag:"master-key-file" def:"" usage:"file holding the base64 master key"`

	MasterKeyPreviousFile string `yaml:"master_key_previous_file" env:"ACCORD_MASTER_KEY_PREVIOUS_FILE" flag:"master-key-previous-file" def:"" usage:"file holding the master key retired by 'accord keys rotate'; data keys it wrapped still open while processes restart"`

	AdminToken string `yaml:"admin_token" env:"ACCORD_ADMIN_TOKEN" flag:"admin-token" def:"" secret:"true" usage:"operator token for the admin API (Authorization: Bearer …); empty disables the API"`

	AlertWebhook string `yaml:"alert_webhook" env:"ACCORD_ALERT_WEBHOOK" flag:"alert-webhook" def:"" usage:"URL that receives a JSON POST when a record exhausts its retries"`

	PublicURL string `yaml:"public_url" env:"ACCORD_PUBLIC_URL" flag:"public-url" def:"" usage:"externally visible base URL (OAuth callbacks, links); default http://ADDR"`

	UIFrameAncestors string `yaml:"ui_frame_ancestors" env:"ACCORD_UI_FRAME_ANCESTORS" flag:"ui-frame-ancestors" def:"" usage:"space-separated origins allowed to frame tenant pages (/ui/t/…), e.g. https://app.example.com; empty: no page may be framed"`

	AllowLoopbackPartners bool `yaml:"allow_loopback_partners" env:"ACCORD_ALLOW_LOOPBACK_PARTNERS" flag:"allow-loopback-partners" def:"false" usage:"let partner calls reach 127.0.0.0/8 and ::1 (simulators, local development); private and link-local addresses stay refused"`

	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" env:"ACCORD_SHUTDOWN_TIMEOUT" flag:"shutdown-timeout" def:"30s" usage:"how long SIGTERM waits for in-flight requests and jobs"`

	Workers int `yaml:"workers" env:"ACCORD_WORKERS" flag:"workers" def:"1000" usage:"maximum concurrent jobs in this process"`

	JobRescueAfter time.Duration `yaml:"job_rescue_after" env:"ACCORD_JOB_RESCUE_AFTER" flag:"job-rescue-after" def:"6m" usage:"the backstop for a job whose process died: after this long it is run again (a dead process's jobs are normally rescued within seconds, when its heartbeat lapses); also the longest any one job may run"`
	EventRetention time.Duration `yaml:"event_retention" env:"ACCORD_EVENT_RETENTION" flag:"event-retention" def:"168h" usage:"how long a delivered event (and its payload) is kept; pending and queued events are never deleted"`

	WebhookMaxBytesInFlight int `yaml:"webhook_max_bytes_in_flight" env:"ACCORD_WEBHOOK_MAX_BYTES_IN_FLIGHT" flag:"webhook-max-bytes-in-flight" def:"67108864" usage:"bytes all webhook bodies being read or committed may hold together; past it new webhooks get 503 with Retry-After (default 64 MiB)"`

	WebhookMaxConcurrentPerConnection int `yaml:"webhook_max_concurrent_per_connection" env:"ACCORD_WEBHOOK_MAX_CONCURRENT_PER_CONNECTION" flag:"webhook-max-concurrent-per-connection" def:"64" usage:"webhook requests in flight per connection; past it a request waits up to 5s for a slot, then gets 503 with Retry-After"`

	WebhookCommitTimeout time.Duration `yaml:"webhook_commit_timeout" env:"ACCORD_WEBHOOK_COMMIT_TIMEOUT" flag:"webhook-commit-timeout" def:"10s" usage:"how long one webhook commit may take before it is abandoned and its requests get 500 (the partner retries)"`

	EventSweepAfter time.Duration `yaml:"event_sweep_after" env:"ACCORD_EVENT_SWEEP_AFTER" flag:"event-sweep-after" def:"30s" usage:"how long an accepted event may wait for in-process delivery (after a crash, or under overload) before a queued job takes it over"`
}

// Roles a process can run.
const (
	RoleAll    = "all"
	RoleAPI    = "api"
	RoleWorker = "worker"
)

// ErrInvalid is wrapped by every validation failure.
var ErrInvalid = errors.New("invalid configuration")

// RunsAPI reports whether this process serves the HTTP surface.
func (c *Config) RunsAPI() bool { return c.Role == RoleAll || c.Role == RoleAPI }

// RunsWorkers reports whether this process works jobs.
func (c *Config) RunsWorkers() bool { return c.Role == RoleAll || c.Role == RoleWorker }

// FrameAncestors splits UIFrameAncestors into its origins.
func (c *Config) FrameAncestors() []string { return strings.Fields(c.UIFrameAncestors) }

// Validate checks values that parsing alone cannot.
func (c *Config) Validate() error {
	var errs []error
	switch c.Role {
	case RoleAll, RoleAPI, RoleWorker:
	default:
		errs = append(errs, fmt.Errorf("%w: role %q: use api, worker or all", ErrInvalid, c.Role))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("%w: log_format %q: use json or text", ErrInvalid, c.LogFormat))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("%w: log_level %q: use debug, info, warn or error", ErrInvalid, c.LogLevel))
	}
	switch strings.ToUpper(c.SQLiteSynchronous) {
	case "FULL", "NORMAL":
	default:
		errs = append(errs, fmt.Errorf("%w: sqlite_synchronous %q: use FULL or NORMAL", ErrInvalid, c.SQLiteSynchronous))
	}
	if _, _, err := ParseDB(c.DB); err != nil {
		errs = append(errs, err)
	}
	if c.EventSweepAfter < time.Second {
		errs = append(errs, fmt.Errorf("%w: event_sweep_after must be at least 1s, got %s", ErrInvalid, c.EventSweepAfter))
	}
	if c.JobRescueAfter < time.Second {
		errs = append(errs, fmt.Errorf("%w: job_rescue_after must be at least 1s, got %s", ErrInvalid, c.JobRescueAfter))
	}
	if c.WebhookMaxBytesInFlight < 4096 {
		errs = append(errs, fmt.Errorf("%w: webhook_max_bytes_in_flight must be at least 4096, got %d", ErrInvalid, c.WebhookMaxBytesInFlight))
	}
	if c.WebhookMaxConcurrentPerConnection < 1 {
		errs = append(errs, fmt.Errorf("%w: webhook_max_concurrent_per_connection must be at least 1, got %d", ErrInvalid, c.WebhookMaxConcurrentPerConnection))
	}
	if c.WebhookCommitTimeout < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("%w: webhook_commit_timeout must be at least 10ms, got %s", ErrInvalid, c.WebhookCommitTimeout))
	}
	for _, o := range c.FrameAncestors() {
		if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") || strings.ContainsAny(o, ";,'\"") {
			errs = append(errs, fmt.Errorf("%w: ui_frame_ancestors %q: list origins such as https://app.example.com, separated by spaces", ErrInvalid, o))
		}
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("%w: workers must be at least 1, got %d", ErrInvalid, c.Workers))
	}
	return errors.Join(errs...)
}

// ParseDB splits a --db value into its dialect ("sqlite" or "postgres") and
// the path or DSN the driver takes.
func ParseDB(db string) (dialect, target string, err error) {
	switch {
	case strings.HasPrefix(db, "sqlite:"):
		path := strings.TrimPrefix(db, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", fmt.Errorf("%w: db %q: sqlite needs a path, e.g. sqlite:accord.db", ErrInvalid, db)
		}
		return "sqlite", path, nil
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return "postgres", db, nil
	default:
		return "", "", fmt.Errorf("%w: db %q: use sqlite:PATH or postgres://user@host:port/db", ErrInvalid, redactDSN(db))
	}
}

// redactDSN hides a password in a DSN so it can appear in an error.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":xxxxx" + dsn[at:]
	}
	return dsn
}
