package queue

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
)

type aliasedArgs struct{}

func (aliasedArgs) Kind() string          { return "test_aliased" }
func (aliasedArgs) KindAliases() []string { return []string{"test_echo"} }

func TestAddWorkerRejectsDuplicateKinds(t *testing.T) {
	t.Parallel()
	noop := river.WorkFunc(func(context.Context, *river.Job[echoArgs]) error { return nil })
	reg := NewRegistry()
	require.NoError(t, AddWorker(reg, noop))

	err := AddWorker(reg, noop)
	require.ErrorIs(t, err, ErrDuplicateKind)
	require.ErrorContains(t, err, "test_echo")

	// An alias colliding with a registered kind is a duplicate too.
	err = AddWorker(reg, river.WorkFunc(func(context.Context, *river.Job[aliasedArgs]) error { return nil }))
	require.ErrorIs(t, err, ErrDuplicateKind)
	require.Equal(t, []string{"test_echo"}, reg.Kinds(), "a rejected worker leaves the registry unchanged")
}

func TestRegistryClone(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	require.NoError(t, AddWorker(reg, river.WorkFunc(func(context.Context, *river.Job[echoArgs]) error { return nil })))
	clone := reg.Clone()
	require.NoError(t, AddWorker(clone, river.WorkFunc(func(context.Context, *river.Job[noopArgs]) error { return nil })))
	require.Equal(t, []string{"test_echo"}, reg.Kinds())
	require.Equal(t, []string{"test_echo", "test_noop"}, clone.Kinds())
	require.ErrorIs(t, AddWorker(clone, river.WorkFunc(func(context.Context, *river.Job[echoArgs]) error { return nil })), ErrDuplicateKind)
}

func TestAddPeriodicValidates(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	ctor := func() (river.JobArgs, *river.InsertOpts) { return noopArgs{}, nil }
	require.Error(t, reg.AddPeriodic(nil, ctor, nil))
	require.Error(t, reg.AddPeriodic(river.PeriodicInterval(time.Minute), nil, nil))
	require.NoError(t, reg.AddPeriodic(river.PeriodicInterval(time.Minute), ctor, &river.PeriodicJobOpts{ID: "sync"}))
	require.ErrorContains(t, reg.AddPeriodic(river.PeriodicInterval(time.Hour), ctor, &river.PeriodicJobOpts{ID: "sync"}), "already registered")
}
