package webhook_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"github.com/accordhq/accord/internal/store"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/accordhq/accord/internal/webhook"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// benchClients is how many concurrent keep-alive clients send webhooks:
// a partner (or several) delivering in parallel. -clients changes it.
var benchClients = 64

func init() {
	flag.IntVar(&benchClients, "clients", benchClients, "BenchmarkIngest: concurrent clients")
}

// BenchmarkIngest measures signed webhooks accepted per second over real
// loopback HTTP, durable (SQLite synchronous=FULL, PostgreSQL
// synchronous_commit=on) before the 2xx:
//
//	go test -run '^$' -bench BenchmarkIngest -benchtime 20000x ./internal/webhook/
//
// noop_handler is the ceiling: the same client and server with a handler
// that reads the body and answers 202 at once.
func BenchmarkIngest(b *testing.B) {
	for name, open := range backends() {
		b.Run(name, func(b *testing.B) {
			b.Run("group_commit", func(b *testing.B) {
				benchIngress(b, options{open: open})
			})
			b.Run("group_commit_fast_insert", func(b *testing.B) {
				benchIngress(b, options{open: open, fastInsert: true})
			})
			b.Run("group_commit_outbox", func(b *testing.B) {
				// Production's mode when the API and workers share a
				// process: events stored pending for the in-process fast
				// path, no job per event.
				benchIngress(b, options{open: open, dispatch: func([]store.Event) {}})
			})
			b.Run("group_commit_no_linger", func(b *testing.B) {
				benchIngress(b, options{open: open, cfg: &webhook.Config{Linger: -1}})
			})
			b.Run("commit_per_request", func(b *testing.B) {
				benchIngress(b, options{open: open, cfg: &webhook.Config{DisableGroupCommit: true}})
			})
			b.Run("noop_handler", func(b *testing.B) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusAccepted)
					_, _ = io.WriteString(w, `{"status":"accepted"}`)
				}))
				defer srv.Close()
				load(b, srv.URL+"/hooks/"+connID, http.StatusAccepted)
			})
		})
	}
}

func benchIngress(b *testing.B, o options) {
	bb := setup(b, o)
	load(b, bb.srv.URL+"/hooks/"+connID, http.StatusAccepted)
	b.StopTimer()
	if got := bb.countEvents(b); got != b.N {
		b.Fatalf("%d events stored, want %d", got, b.N)
	}
	if commits := bb.ingress.Commits(); commits > 0 {
		b.ReportMetric(float64(b.N)/float64(commits), "events/commit")
	}
	families, err := bb.reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "accord_webhook_commit_duration_seconds" {
			h := f.GetMetric()[0].GetHistogram()
			b.ReportMetric(1000*h.GetSampleSum()/float64(h.GetSampleCount()), "ms/commit")
		}
	}
}

// load sends b.N distinct signed webhooks from benchClients goroutines
// and reports req/s; every answer must be want.
func load(b *testing.B, url string, want int) {
	scheme, err := signature.New("standard-webhooks", signature.Options{})
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	padding := bytes.Repeat([]byte("x"), 300) // a ~500-byte body, typical of a ticket event

	var next atomic.Int64
	var failed atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	b.ResetTimer()
	cpuBefore := processCPU()
	start := time.Now()
	for range benchClients {
		wg.Go(func() {
			var body []byte
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				id := "evt_" + strconv.FormatInt(i, 10)
				body = append(body[:0], `{"id":"`...)
				body = append(body, id...)
				body = append(body, `","type":"ticket.updated","data":{"id":"T-`...)
				body = strconv.AppendInt(body, i%1000, 10)
				body = append(body, `","updated_at":"2026-11-27T09:59:00Z","subject":"`...)
				body = append(body, padding...)
				body = append(body, `"}}`...)
				h, err := scheme.Sign(body, []byte(secretA), testNow, "msg_"+id)
				if err != nil {
					panic(err)
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header = h
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { b.Error(err) })
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					failed.Add(1)
					firstErr.Do(func() { b.Errorf("status %d, want %d", resp.StatusCode, want) })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	// CPU per request, client and server together: unlike req/s it does not
	// depend on what else the machine is running. 2 cores / this = the
	// throughput this process could reach with the machine to itself.
	b.ReportMetric(float64((processCPU()-cpuBefore).Microseconds())/float64(b.N), "cpu-µs/req")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
}

// BenchmarkCommitter measures the store side alone: events already parsed
// and queued, committed in batches of up to MaxBatch by one committer
// (SQLite) — the ceiling of the ingress on that database whatever the HTTP
// layer does.
func BenchmarkCommitter(b *testing.B) {
	for name, open := range backends() {
		for _, fast := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/fast_insert=%v", name, fast), func(b *testing.B) {
				bb := setup(b, options{open: open})
				var q webhook.Queue = bb.q
				if fast {
					q = newFastQueue(b, bb.st, bb.q)
				}
				c := webhook.NewTestCommitter(bb.st, q, &webhook.Config{QueueSize: b.N + 1})
				defer c.Close()
				ctx := context.Background()
				padding := strings.Repeat("x", 300)
				waits := make([]func() (bool, error), 0, b.N)
				for i := range b.N {
					e := testEvent(fmt.Sprintf("b%d", i))
					e.Payload = []byte(`{"id":"` + e.DedupKey + `","subject":"` + padding + `"}`)
					w, err := c.Submit(ctx, e, jobFor(e))
					if err != nil {
						b.Fatal(err)
					}
					waits = append(waits, w)
				}
				b.ResetTimer()
				cpuBefore := processCPU()
				start := time.Now()
				c.Start(1)
				for _, w := range waits {
					if _, err := w(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
				b.ReportMetric(float64((processCPU()-cpuBefore).Microseconds())/float64(b.N), "cpu-µs/event")
				b.ReportMetric(float64(b.N)/float64(c.Txs()), "events/commit")
			})
		}
	}
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
