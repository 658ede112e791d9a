package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestObjectVersionsOlderWaitsForNewer(t *testing.T) {
	t.Parallel()
	o := newObjectVersions()
	leave3 := o.enter("T-1", order{version: 3})
	leave2 := o.enter("T-1", order{version: 2})
	defer leave2()

	require.NoError(t, o.waitNewer(t.Context(), "T-1", order{version: 3}), "the newest never waits")
	require.NoError(t, o.waitNewer(t.Context(), "T-2", order{version: 1}), "other objects are independent")

	done := make(chan error, 1)
	go func() { done <- o.waitNewer(t.Context(), "T-1", order{version: 2}) }()
	select {
	case err := <-done:
		t.Fatalf("version 2 went ahead while version 3 was in flight: %v", err)
	default:
	}
	leave3()
	require.NoError(t, <-done)
}

func TestObjectVersionsWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	o := newObjectVersions()
	defer o.enter("T-1", order{version: 5})()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, o.waitNewer(ctx, "T-1", order{version: 4}), context.DeadlineExceeded)
}
