package connector

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Connector. The zero value (or nil) is usable: every
// field documents its default.
type Config struct {
	// Timeout bounds one request, from dial to the last byte of the
	// response body. Default 30s.
	Timeout time.Duration
	// DialTimeout bounds establishing a connection. Default 5s.
	DialTimeout time.Duration
	// MaxResponseBytes caps a response body; a larger one fails the call
	// with ErrResponseTooLarge so a hostile partner cannot exhaust memory.
	// Default 10 MiB.
	MaxResponseBytes int64
	// AllowLoopback lets the dialer connect to loopback addresses
	// (127.0.0.0/8, ::1). Tests and the demo set it. Default false.
	AllowLoopback bool
	// AllowPrivate lets the dialer connect to private networks (RFC 1918,
	// fc00::/7, 100.64.0.0/10), for partners reached over a VPN. Link-local
	// addresses (169.254.0.0/16, cloud metadata services) are always
	// refused. Default false.
	AllowPrivate bool
	// UserAgent is sent on every request. Default "accord-connector".
	UserAgent string
	// Logger receives one debug line per request and a warning the first
	// time the partner announces a deprecation. Secrets, URLs with their
	// query and bodies are never logged. Default: discard.
	Logger *slog.Logger
	// Registerer receives the connector's and its limiter's metrics.
	// Default nil: no metrics.
	Registerer prometheus.Registerer
	// Now is the clock for Retry-After dates and the rate limiter.
	// Default time.Now.
	Now func() time.Time
	// LookupEnv expands ${NAME} in the manifest's base_url.
	// Default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Limiter configures the per-tenant rate limiter. Its Now and
	// Registerer default to this Config's. Default: see LimiterConfig.
	Limiter *LimiterConfig
}

const (
	defaultTimeout          = 30 * time.Second
	defaultDialTimeout      = 5 * time.Second
	defaultMaxResponseBytes = 10 << 20
	defaultUserAgent        = "accord-connector"
)

func (c *Config) withDefaults() Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.Timeout <= 0 {
		out.Timeout = defaultTimeout
	}
	if out.DialTimeout <= 0 {
		out.DialTimeout = defaultDialTimeout
	}
	if out.MaxResponseBytes <= 0 {
		out.MaxResponseBytes = defaultMaxResponseBytes
	}
	if out.UserAgent == "" {
		out.UserAgent = defaultUserAgent
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.LookupEnv == nil {
		out.LookupEnv = os.LookupEnv
	}
	return out
}
