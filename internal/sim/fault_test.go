package sim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
)

func setupChat(t *testing.T, cfg sim.Config) (*sim.Chat, string) {
	t.Helper()
	cfg.Token = token
	c := sim.NewChat(&cfg)
	t.Cleanup(c.Stop)
	return c, serve(t, c.Handler())
}

func postMessage(t *testing.T, url string) response {
	t.Helper()
	return call(t, http.MethodPost, url+"/v1/channels/ops/messages", token, map[string]string{"text": "hi"})
}

func TestRequestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault  sim.Fault
		status int
		check  func(t *testing.T, r response)
	}{
		{sim.Fault{Kind: "429", RetryAfter: 2 * time.Second}, 429, func(t *testing.T, r response) {
			require.Equal(t, "2", r.Header.Get("Retry-After"))
		}},
		{sim.Fault{Kind: "5xx", Status: 502}, 502, nil},
		{sim.Fault{Kind: "5xx"}, 503, nil},
		{sim.Fault{Kind: "401"}, 401, func(t *testing.T, r response) {
			require.Equal(t, "invalid token", r.ErrorMessage(t))
		}},
		{sim.Fault{Kind: "403"}, 403, nil},
		{sim.Fault{Kind: "422"}, 422, func(t *testing.T, r response) {
			require.Equal(t, sim.DefaultFaultMessage, r.ErrorMessage(t))
		}},
		{sim.Fault{Kind: "422", Message: "severity is invalid"}, 422, func(t *testing.T, r response) {
			require.Equal(t, "severity is invalid", r.ErrorMessage(t))
		}},
		{sim.Fault{Kind: "oversized", Size: 3 << 20}, 200, func(t *testing.T, r response) {
			require.Len(t, r.Body, 3<<20)
			require.True(t, json.Valid(r.Body), "still JSON, just huge")
		}},
	}
	for _, tc := range tests {
		t.Run(string(tc.fault.Kind), func(t *testing.T) {
			t.Parallel()
			c, url := setupChat(t, sim.Config{})
			require.NoError(t, c.Inject(tc.fault))
			r := postMessage(t, url)
			require.Equal(t, tc.status, r.Status)
			if tc.check != nil {
				tc.check(t, r)
			}
			require.Empty(t, c.Messages("ops"), "a faulted request has no side effect")
			require.Equal(t, http.StatusCreated, postMessage(t, url).Status, "the fault is used up")
			require.Equal(t, map[sim.FaultKind]int{tc.fault.Kind: 1}, c.AppliedFaults())
		})
	}
}

func TestFaultCount(t *testing.T) {
	t.Parallel()
	c, url := setupChat(t, sim.Config{})
	require.NoError(t, c.Inject(sim.Fault{Kind: "429", RetryAfter: 2 * time.Second, Count: 3}, sim.Fault{Kind: "5xx"}))
	var got []int
	for range 5 {
		got = append(got, postMessage(t, url).Status)
	}
	require.Equal(t, []int{429, 429, 429, 503, 201}, got)
	require.Len(t, c.Messages("ops"), 1)
}

func TestSlowFault(t *testing.T) {
	t.Parallel()
	sl := &sleeps{}
	c, url := setupChat(t, sim.Config{Sleep: sl.Sleep})
	require.NoError(t, c.Inject(sim.Fault{Kind: sim.FaultSlow, Delay: 30 * time.Second}))
	require.Equal(t, http.StatusCreated, postMessage(t, url).Status, "slow, not failed")
	require.Equal(t, []time.Duration{30 * time.Second}, sl.All())
	require.Len(t, c.Messages("ops"), 1)
}

func TestSlowFaultTimesOutClient(t *testing.T) {
	t.Parallel()
	// The default sleep is a real timer: a client deadline shorter than the
	// delay sees a timeout, which is what the fault is for.
	c, url := setupChat(t, sim.Config{})
	require.NoError(t, c.Inject(sim.Fault{Kind: sim.FaultSlow, Delay: time.Hour}))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/channels/ops/messages", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestHangAfterFaultCommitsThenHoldsTheAnswer(t *testing.T) {
	t.Parallel()
	sl := &sleeps{}
	c, url := setupChat(t, sim.Config{Sleep: sl.Sleep})
	require.NoError(t, c.Inject(sim.Fault{Kind: sim.FaultHangAfter, Delay: time.Minute}))
	require.Equal(t, http.StatusCreated, postMessage(t, url).Status, "the held answer is the real one")
	require.Equal(t, []time.Duration{time.Minute}, sl.All())
	require.Len(t, c.Messages("ops"), 1)
}

func TestFaultLimitedToAMethod(t *testing.T) {
	t.Parallel()
	c, url := setupChat(t, sim.Config{})
	require.NoError(t, c.Inject(sim.Fault{Kind: sim.FaultServerError, Method: "post"}))
	require.Equal(t, http.StatusOK, call(t, http.MethodGet, url+"/v1/channels/ops/messages", token, nil).Status, "a GET passes")
	require.Equal(t, http.StatusServiceUnavailable, postMessage(t, url).Status, "the POST is hit")
	require.Equal(t, http.StatusCreated, postMessage(t, url).Status)
	require.Error(t, c.Inject(sim.Fault{Kind: sim.FaultDuplicate, Method: "POST"}), "webhook faults have no method")
}

func TestHangAfterFaultClientGivesUpAfterTheWrite(t *testing.T) {
	t.Parallel()
	// A client that stops waiting (a timeout, a crash) never learns that the
	// message was posted: the case idempotency keys and lookups exist for.
	c, url := setupChat(t, sim.Config{})
	require.NoError(t, c.Inject(sim.Fault{Kind: sim.FaultHangAfter, Delay: time.Hour}))
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	body := strings.NewReader(`{"text":"hi"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/channels/ops/messages", body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, c.Messages("ops"), 1)
}

func TestResetFault(t *testing.T) {
	t.Parallel()
	c, url := setupChat(t, sim.Config{})
	require.NoError(t, c.Inject(sim.Fault{Kind: sim.FaultReset}))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/v1/channels/ops/messages", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the client gets no response at all")
	require.Equal(t, http.StatusOK, call(t, http.MethodGet, url+"/v1/channels/ops/messages", token, nil).Status)
}

func TestInjectRejectsBadFaults(t *testing.T) {
	t.Parallel()
	c, _ := setupChat(t, sim.Config{})
	require.Error(t, c.Inject(sim.Fault{Kind: "gremlins"}))
	require.Error(t, c.Inject(sim.Fault{Kind: "5xx", Status: 404}))
	require.Error(t, c.Inject(sim.Fault{Kind: "429", Webhook: true}))
	require.Error(t, c.Random(0.5, "gremlins"))
	require.Empty(t, c.PendingFaults())
}

func TestRandomFaultsAreSeeded(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []int {
		c, url := setupChat(t, sim.Config{Seed: seed})
		require.NoError(t, c.Random(0.5, sim.FaultServerError, sim.FaultRateLimit))
		var out []int
		for range 40 {
			out = append(out, postMessage(t, url).Status)
		}
		return out
	}
	a, b := run(7), run(7)
	require.Equal(t, a, b, "same seed, same faults")
	counts := map[int]int{}
	for _, s := range a {
		counts[s]++
	}
	require.Positive(t, counts[201])
	require.Positive(t, counts[429]+counts[503])
	require.NotEqual(t, a, run(8))

	c, url := setupChat(t, sim.Config{})
	require.NoError(t, c.Random(1, sim.FaultServerError))
	require.Equal(t, 503, postMessage(t, url).Status)
	c.ClearFaults()
	require.Equal(t, 201, postMessage(t, url).Status)
}

func TestFaultsAdminEndpoint(t *testing.T) {
	t.Parallel()
	s := sim.NewIncidents(&sim.Config{Token: token, RateLimit: -1})
	t.Cleanup(s.Stop)
	url := serve(t, s.Handler())
	list := func() int { return call(t, http.MethodGet, url+"/v1/incidents", token, nil).Status }

	r := call(t, http.MethodPost, url+"/_sim/faults", "", map[string]any{
		"faults": []map[string]any{{"kind": "429", "retry_after": "3s", "count": 2}, {"kind": "5xx", "status": 500}},
	})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Len(t, r.JSON(t)["pending"], 2)

	r = call(t, http.MethodGet, url+"/v1/incidents", token, nil)
	require.Equal(t, 429, r.Status)
	require.Equal(t, "3", r.Header.Get("Retry-After"))
	require.Equal(t, []int{429, 500, 200}, []int{list(), list(), list()})

	r = call(t, http.MethodPost, url+"/_sim/faults", "", map[string]any{"faults": []map[string]any{{"kind": "slow", "delay": 1.5}}})
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, []sim.Fault{{Kind: sim.FaultSlow, Count: 1, Delay: 1500 * time.Millisecond}}, s.PendingFaults())

	r = call(t, http.MethodPost, url+"/_sim/faults", "", map[string]any{"clear": true, "random": map[string]any{"rate": 1, "kinds": []string{"403"}}})
	require.Equal(t, http.StatusOK, r.Status)
	require.Empty(t, s.PendingFaults())
	require.Equal(t, 403, list())

	r = call(t, http.MethodDelete, url+"/_sim/faults", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, 200, list())

	r = call(t, http.MethodPost, url+"/_sim/faults", "", map[string]any{"faults": []map[string]any{{"kind": "gremlins"}}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Contains(t, r.ErrorMessage(t), "gremlins")
	r = call(t, http.MethodPost, url+"/_sim/faults", "", map[string]any{"faults": []map[string]any{{"kind": "slow", "delay": "soon"}}})
	require.Equal(t, http.StatusBadRequest, r.Status)
}

func TestStartListensOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	c := sim.NewChat(&sim.Config{Token: token})
	_, err := c.Start(t.Context(), "0.0.0.0:0")
	require.Error(t, err)

	url, err := c.Start(t.Context(), "")
	require.NoError(t, err)
	require.Regexp(t, `^http://127\.0\.0\.1:\d+$`, url)
	require.Equal(t, url, c.URL())
	require.Equal(t, http.StatusCreated, postMessage(t, url).Status)

	c.Stop()
	c.Stop() // idempotent
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/v1/channels/ops/messages", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	require.Error(t, err, "stopped simulator no longer listens")
}

func TestApplyLateFaultAppliesAfterTheClientGaveUp(t *testing.T) {
	t.Parallel()
	// The request is applied only after the client stopped waiting: what a
	// partner under load does when it answers past the client's timeout.
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	c, url := setupChat(t, sim.Config{Sleep: func(ctx context.Context, _ time.Duration) error {
		entered <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}})
	require.NoError(t, c.Inject(sim.Fault{Kind: sim.FaultApplyLate, Delay: time.Minute}))
	ctx, cancel := context.WithCancel(t.Context())
	body := strings.NewReader(`{"text":"late"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/channels/ops/messages", body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	cancel() // the client times out
	require.Error(t, <-done)
	require.Empty(t, c.Messages("ops"), "not applied while the partner holds it")
	close(release)
	require.Eventually(t, func() bool { return len(c.Messages("ops")) == 1 }, 10*time.Second, 5*time.Millisecond,
		"applied after the client gave up")
}

func TestChatHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	c, url := setupChat(t, sim.Config{})
	post := func(key, text string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/v1/channels/ops/messages", strings.NewReader(`{"text":"`+text+`"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusCreated, post("k1", "hi"))
	require.Equal(t, http.StatusCreated, post("k1", "hi"), "replayed")
	require.Len(t, c.Messages("ops"), 1)
	require.Equal(t, http.StatusUnprocessableEntity, post("k1", "other"), "same key, other body")
	require.Equal(t, http.StatusCreated, post("k2", "hi"))
	require.Len(t, c.Messages("ops"), 2)
}
