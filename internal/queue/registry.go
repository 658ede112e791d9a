package queue

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/riverqueue/river"
)

// Registry holds the job kinds a process knows and its periodic jobs. Each
// kind is registered once, at start-up; a Registry may back several Queues
// (tests build two over one database) and Clone copies it.
type Registry struct {
	mu       sync.Mutex
	kinds    []string
	adders   []func(*river.Workers) error
	periodic []periodicSpec
	// probe is a River worker bundle kept only to catch duplicate kinds and
	// aliases at registration, with River's own rules.
	probe *river.Workers
}

type periodicSpec struct {
	schedule    river.PeriodicSchedule
	constructor river.PeriodicJobConstructor
	opts        *river.PeriodicJobOpts
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{probe: river.NewWorkers()}
}

// AddWorker registers w for the kind of T. It returns an error wrapping
// ErrDuplicateKind when the kind, or one of its aliases, is registered
// already; the Registry is then unchanged.
func AddWorker[T river.JobArgs](reg *Registry, w river.Worker[T]) error {
	if w == nil {
		return errors.New("queue: AddWorker: nil worker")
	}
	var args T
	kind := args.Kind()

	reg.mu.Lock()
	defer reg.mu.Unlock()
	if slices.Contains(reg.kinds, kind) {
		return fmt.Errorf("%w: %q", ErrDuplicateKind, kind)
	}
	if err := river.AddWorkerSafely(reg.probe, w); err != nil {
		// Only an alias can collide here: the kind itself was checked.
		return fmt.Errorf("%w: %q: %w", ErrDuplicateKind, kind, err)
	}
	reg.kinds = append(reg.kinds, kind)
	reg.adders = append(reg.adders, func(ws *river.Workers) error {
		return river.AddWorkerSafely(ws, w)
	})
	return nil
}

// AddPeriodic registers a job inserted on schedule (river.PeriodicInterval,
// or any cron-like river.PeriodicSchedule). Only the elected leader among
// the worker processes inserts it, so it runs once per tick however many
// processes run. constructor must not block; it may return nil args to
// skip a tick. opts may be nil; a non-empty opts.ID must be unique.
func (r *Registry) AddPeriodic(schedule river.PeriodicSchedule, constructor river.PeriodicJobConstructor, opts *river.PeriodicJobOpts) error {
	if schedule == nil || constructor == nil {
		return errors.New("queue: AddPeriodic: schedule and constructor are required")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if opts != nil && opts.ID != "" {
		for _, p := range r.periodic {
			if p.opts != nil && p.opts.ID == opts.ID {
				return fmt.Errorf("queue: AddPeriodic: periodic job id %q already registered", opts.ID)
			}
		}
	}
	r.periodic = append(r.periodic, periodicSpec{schedule: schedule, constructor: constructor, opts: opts})
	return nil
}

// Kinds returns the registered job kinds in registration order.
func (r *Registry) Kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.kinds)
}

// Clone returns an independent copy: kinds added to one are not seen by the
// other.
func (r *Registry) Clone() *Registry {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := &Registry{
		kinds:    slices.Clone(r.kinds),
		adders:   slices.Clone(r.adders),
		periodic: slices.Clone(r.periodic),
		probe:    river.NewWorkers(),
	}
	for _, add := range c.adders {
		if err := add(c.probe); err != nil {
			// Cannot happen: the same adders succeeded on r.probe.
			panic(fmt.Sprintf("queue: cloning registry: %v", err))
		}
	}
	return c
}

// workers builds a fresh River bundle per Queue, so a kind registered after
// New never reaches a Queue already built.
func (r *Registry) workers() (*river.Workers, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws := river.NewWorkers()
	for _, add := range r.adders {
		if err := add(ws); err != nil {
			return nil, fmt.Errorf("queue: registering workers: %w", err)
		}
	}
	return ws, nil
}

func (r *Registry) periodicJobs() []*river.PeriodicJob {
	r.mu.Lock()
	defer r.mu.Unlock()
	jobs := make([]*river.PeriodicJob, 0, len(r.periodic))
	for _, p := range r.periodic {
		jobs = append(jobs, river.NewPeriodicJob(p.schedule, p.constructor, p.opts))
	}
	return jobs
}
