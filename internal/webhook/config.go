package webhook

import (
	"errors"
	"fmt"
	"time"
)

// Defaults for Config.
const (
	DefaultMaxBatch        = 500
	DefaultCommitters      = 4
	DefaultConnectionTTL   = 5 * time.Second
	DefaultConnectionCache = 10_000
	DefaultMaxBody         = 1 << 20
	DefaultLinger          = time.Millisecond

	DefaultMaxBytesInFlight           = 64 << 20
	DefaultMaxConcurrentPerConnection = 64
	DefaultCommitTimeout              = 10 * time.Second
	DefaultRejectionFlushInterval     = 5 * time.Second
	DefaultConnectionSlotWait         = 5 * time.Second
)

// Config tunes an Ingress. A nil *Config means all defaults.
type Config struct {
	// DisableGroupCommit commits each request in its own transaction, in
	// the request's goroutine: the baseline the benchmark compares group
	// commit against. Default false (group commit on); a negative field name
	// so that the zero Config is the production one.
	DisableGroupCommit bool

	// MaxBatch caps the requests in one commit. Default 500. A batched
	// body (webhooks.batch) counts once however many events it holds: its
	// events commit together.
	MaxBatch int

	// Linger is how long a committer waits for more events after the first
	// one of a batch arrives, when fewer than MaxBatch are queued. Batches
	// form on their own while a commit runs (natural batching); lingering
	// makes them larger still, which cuts the CPU per event (measured on 2
	// cores: 1 ms took batches from ~28 to ~38 events and throughput up by
	// a third). It applies only while the previous batch held more than
	// one event, so an idle ingress never waits. Default 1 ms; negative
	// disables it.
	Linger time.Duration

	// QueueSize bounds the events waiting for a committer; a request that
	// finds it full waits (up to its own context) rather than being
	// dropped. Default 2×MaxBatch×Committers.
	QueueSize int

	// Committers is how many transactions run at once. Default 1 on SQLite
	// (one writer; more would only queue on it) and 4 on PostgreSQL.
	Committers int

	// ConnectionTTL is how long a looked-up connection is reused without
	// asking the store again: a disconnect takes effect within it.
	// Default 5 s; negative disables the cache.
	ConnectionTTL time.Duration

	// ConnectionCacheSize bounds the cached connections; when full, an
	// arbitrary entry is evicted. Default 10,000.
	ConnectionCacheSize int

	// MaxBytesInFlight bounds the memory held by request bodies across all
	// requests, from the first byte read until the response. Buffers grow
	// with what arrives, never with the declared Content-Length; a request
	// whose body would take the total past this limit is answered 503 with
	// Retry-After (the partner retries), so a crowd of slow or lying
	// senders costs at most this much. Default 64 MiB. It should be at
	// least twice the largest provider max_body, or a body that large can
	// never be accepted.
	MaxBytesInFlight int64

	// MaxConcurrentPerConnection caps the requests in flight for one
	// connection id (the {connection_id} of the URL); past it a request
	// waits up to ConnectionSlotWait for a slot, then is answered 503 with
	// Retry-After, before its body is read. A hostile
	// sender who learned one connection's URL then holds at most this many
	// slots. Default 64.
	MaxConcurrentPerConnection int

	// ConnectionSlotWait is how long a request past
	// MaxConcurrentPerConnection waits for a slot. Waiting costs a
	// goroutine, not a body (none is read yet), and a partner's burst on
	// one connection drains as fast as commits do, so the wait is generous.
	// Default 5 s.
	ConnectionSlotWait time.Duration

	// CommitTimeout bounds each commit transaction. A commit that has not
	// finished by then is abandoned (rolled back) and its requests are
	// answered 500, so a hung database makes partners retry instead of
	// holding their connections forever. Default 10 s.
	CommitTimeout time.Duration

	// RejectionFlushInterval is how often the counts of refused requests
	// (per connection, hour and reason, for the health page) are written
	// to the store, in one statement. Default 5 s.
	RejectionFlushInterval time.Duration
}

func (c *Config) withDefaults(sqlite bool) Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.MaxBatch == 0 {
		out.MaxBatch = DefaultMaxBatch
	}
	switch {
	case out.Linger == 0:
		out.Linger = DefaultLinger
	case out.Linger < 0:
		out.Linger = 0
	}
	if out.Committers == 0 {
		out.Committers = DefaultCommitters
		if sqlite {
			out.Committers = 1
		}
	}
	if out.QueueSize == 0 {
		out.QueueSize = 2 * out.MaxBatch * out.Committers
	}
	if out.ConnectionTTL == 0 {
		out.ConnectionTTL = DefaultConnectionTTL
	}
	if out.ConnectionCacheSize == 0 {
		out.ConnectionCacheSize = DefaultConnectionCache
	}
	if out.MaxBytesInFlight == 0 {
		out.MaxBytesInFlight = DefaultMaxBytesInFlight
	}
	if out.MaxConcurrentPerConnection == 0 {
		out.MaxConcurrentPerConnection = DefaultMaxConcurrentPerConnection
	}
	if out.ConnectionSlotWait == 0 {
		out.ConnectionSlotWait = DefaultConnectionSlotWait
	}
	if out.CommitTimeout == 0 {
		out.CommitTimeout = DefaultCommitTimeout
	}
	if out.RejectionFlushInterval <= 0 {
		out.RejectionFlushInterval = DefaultRejectionFlushInterval
	}
	return out
}

func (c *Config) validate() error {
	var errs []error
	if c.MaxBatch < 1 {
		errs = append(errs, fmt.Errorf("max batch must be at least 1, got %d", c.MaxBatch))
	}
	if c.Committers < 1 {
		errs = append(errs, fmt.Errorf("committers must be at least 1, got %d", c.Committers))
	}
	if c.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("queue size must be at least 1, got %d", c.QueueSize))
	}
	if c.ConnectionCacheSize < 0 {
		errs = append(errs, fmt.Errorf("ConnectionCacheSize must not be negative, got %d", c.ConnectionCacheSize))
	}
	if c.MaxBytesInFlight < firstChunk {
		errs = append(errs, fmt.Errorf("MaxBytesInFlight must be at least %d, got %d", firstChunk, c.MaxBytesInFlight))
	}
	if c.MaxConcurrentPerConnection < 1 {
		errs = append(errs, fmt.Errorf("MaxConcurrentPerConnection must be at least 1, got %d", c.MaxConcurrentPerConnection))
	}
	if c.CommitTimeout < 0 {
		errs = append(errs, fmt.Errorf("CommitTimeout must not be negative, got %s", c.CommitTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("webhook: config: %w", err)
	}
	return nil
}
