package loadtest_test

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/accordhq/accord/internal/loadtest"
	"github.com/accordhq/accord/internal/queue"
)

var (
	benchRate     = flag.Float64("rate", loadtest.DefaultRate, "BenchmarkEventToAction: events per second")
	benchCooldown = flag.Duration("fetch-cooldown", 0, "BenchmarkEventToAction: queue FetchCooldown override")
	benchPoll     = flag.Duration("fetch-poll-interval", 0, "BenchmarkEventToAction: queue FetchPollInterval override")
)

// BenchmarkEventToAction measures receipt → partner write for signed
// helpdesk webhooks sent open loop at -rate events/s (default 500), each
// escalating a distinct ticket; b.N is the number of events, so
//
//	go test -run '^$' -bench EventToAction -benchtime 5000x ./internal/loadtest/
//
// is 10 s of load per backend. noop is the ceiling: the same load against a
// handler that answers 202. A run takes longer than a unit test may, so
// -short skips it.
func BenchmarkEventToAction(b *testing.B) {
	if testing.Short() {
		b.Skip("a load run takes tens of seconds; run without -short")
	}
	var q *queue.Config
	if *benchCooldown > 0 || *benchPoll > 0 {
		q = &queue.Config{FetchCooldown: *benchCooldown, FetchPollInterval: *benchPoll}
	}
	b.Run("noop", func(b *testing.B) {
		res, err := loadtest.RunNoop(b.Context(), &loadtest.Config{Rate: *benchRate, Events: b.N})
		if err != nil {
			b.Fatal(err)
		}
		report(b, res)
	})
	b.Run("sqlite", func(b *testing.B) {
		res, err := loadtest.Run(b.Context(), &loadtest.Config{Rate: *benchRate, Events: b.N, Queue: q})
		if err != nil {
			b.Fatal(err)
		}
		report(b, res)
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := os.Getenv("ACCORD_TEST_POSTGRES")
		if dsn == "" {
			b.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL benchmark")
		}
		res, err := loadtest.Run(b.Context(), &loadtest.Config{DB: dsn, Rate: *benchRate, Events: b.N, Queue: q})
		if err != nil {
			b.Fatal(err)
		}
		report(b, res)
	})
}

func report(b *testing.B, r *loadtest.Result) {
	b.Helper()
	// The per-op time the framework prints is the send interval; the
	// metrics below are what matter.
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(r.Rate, "events/s")
	b.ReportMetric(float64(r.Errors), "errors")
	b.ReportMetric(float64(r.Late), "late")
	b.ReportMetric(msOf(r.Ack.P99), "ack_p99_ms")
	b.ReportMetric(msOf(r.CPUPerEvent), "cpu_ms/event")
	if r.Name == "noop" {
		b.ReportMetric(msOf(r.Ack.P50), "ack_p50_ms")
		return
	}
	b.ReportMetric(float64(r.Missing), "missing")
	b.ReportMetric(msOf(r.EndToEnd.P50), "p50_ms")
	b.ReportMetric(msOf(r.EndToEnd.P90), "p90_ms")
	b.ReportMetric(msOf(r.EndToEnd.P99), "p99_ms")
	b.ReportMetric(msOf(r.EndToEnd.Max), "max_ms")
	b.ReportMetric(msOf(r.Engine.P99), "engine_p99_ms")
	if r.Errors > 0 || r.Missing > 0 {
		b.Errorf("%d errors, %d accepted events without an incident", r.Errors, r.Missing)
	}
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
