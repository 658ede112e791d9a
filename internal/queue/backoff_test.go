package queue

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
)

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	zero := func() float64 { return 0 }
	almostOne := func() float64 { return 0.999999 }
	tests := []struct {
		name    string
		b       Backoff
		failure int
		want    time.Duration
	}{
		{"defaults start at 1 s", Backoff{Rand: zero}, 1, time.Second},
		{"doubles per failure", Backoff{Rand: zero}, 4, 8 * time.Second},
		{"capped at 1 h by default", Backoff{Rand: zero}, 20, time.Hour},
		{"no overflow on absurd counts", Backoff{Rand: zero}, 10_000, time.Hour},
		{"custom base and cap", Backoff{Base: 100 * time.Millisecond, Max: time.Second, Rand: zero}, 5, time.Second},
		{"jitter shortens, never lengthens", Backoff{Jitter: 0.5, Rand: almostOne}, 2, time.Second + time.Microsecond},
		{"negative jitter disables it", Backoff{Jitter: -1, Rand: almostOne}, 3, 4 * time.Second},
		{"huge cap does not overflow", Backoff{Max: time.Duration(1<<63 - 1), Rand: zero}, 200, time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.b.Delay(tt.failure).Round(time.Microsecond))
		})
	}
}

func TestBackoffNextRetryCountsErrorsNotSnoozes(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	b := &Backoff{Now: func() time.Time { return now }, Rand: func() float64 { return 0 }}
	// Attempt 5 after four snoozes and two errors: the third failure.
	job := &rivertype.JobRow{Attempt: 5, Errors: make([]rivertype.AttemptError, 2)}
	require.Equal(t, now.Add(4*time.Second), b.NextRetry(job))
}
