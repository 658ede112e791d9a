package loadtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// request is what the driver sends for event i: its URL, body and
// headers, built when the event is due so signatures carry a fresh
// timestamp.
type request func(i int, now time.Time) (url string, body []byte, header http.Header)

// sent is what happened to one event.
type sent struct {
	due    time.Time     // when the schedule wanted it sent
	at     time.Time     // when the client started sending it
	ack    time.Duration // send → response headers
	status int           // 0 on a transport error
}

// drive sends n events at rate per second, open loop: event i is due at
// start + i/rate and is handed to the next free client of a pool of
// clients keep-alive connections. A slow answer delays no later event
// unless every client is busy, which the caller sees as lateness.
func drive(ctx context.Context, n int, rate float64, clients int, req request) (out []sent, elapsed time.Duration) {
	tr := &http.Transport{
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		IdleConnTimeout:     time.Minute,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	out = make([]sent, n)
	due := make(chan int, n)
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	go func() {
		defer close(due)
		timer := time.NewTimer(0)
		defer timer.Stop()
		<-timer.C
		for i := range n {
			at := start.Add(time.Duration(i) * interval)
			out[i].due = at
			if d := time.Until(at); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return
				}
			}
			due <- i
		}
	}()

	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range due {
				url, body, header := req(i, time.Now())
				r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					continue
				}
				r.Header = header
				out[i].at = time.Now()
				resp, err := client.Do(r)
				out[i].ack = time.Since(out[i].at)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				out[i].status = resp.StatusCode
			}
		})
	}
	wg.Wait()
	return out, time.Since(start)
}
