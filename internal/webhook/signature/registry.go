package signature

import (
	"fmt"
	"slices"
	"sync"
)

// Constructor builds a Scheme from its Options, rejecting options the scheme
// cannot honour.
type Constructor func(Options) (Scheme, error)

// Registry maps scheme names to constructors. The zero value is not usable;
// call NewRegistry or Clone.
type Registry struct {
	mu    sync.RWMutex
	ctors map[string]Constructor
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{ctors: map[string]Constructor{}}
}

// Register adds a scheme. It fails when the name is empty, the constructor is
// nil, or the name is already taken.
func (r *Registry) Register(name string, ctor Constructor) error {
	if name == "" || ctor == nil {
		return fmt.Errorf("signature: register: empty name or nil constructor")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.ctors[name]; dup {
		return fmt.Errorf("signature: register: scheme %q already registered", name)
	}
	r.ctors[name] = ctor
	return nil
}

// New builds the named scheme.
func (r *Registry) New(name string, opts Options) (Scheme, error) {
	r.mu.RLock()
	ctor, ok := r.ctors[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownScheme, name)
	}
	s, err := ctor(opts)
	if err != nil {
		return nil, fmt.Errorf("signature: scheme %q: %w", name, err)
	}
	return s, nil
}

// Names lists the registered schemes, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.ctors))
	for n := range r.ctors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Clone returns an independent copy, so a test can register extra schemes
// without touching the global registry.
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := NewRegistry()
	for n, ctor := range r.ctors {
		c.ctors[n] = ctor
	}
	return c
}

var global = NewRegistry()

// Default returns the process-wide registry the built-in schemes register in.
func Default() *Registry { return global }

// Register adds a scheme to the default registry and panics on a duplicate:
// it is meant for init functions, where a clash is a programming error.
func Register(name string, ctor Constructor) {
	if err := global.Register(name, ctor); err != nil {
		panic(err)
	}
}

// New builds the named scheme from the default registry.
func New(name string, opts Options) (Scheme, error) { return global.New(name, opts) }

// Names lists the schemes in the default registry, sorted.
func Names() []string { return global.Names() }
