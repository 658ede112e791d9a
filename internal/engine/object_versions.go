package engine

import (
	"context"
	"sync"
)

// objectVersions tracks the versions of each source object whose events are
// being delivered in this process. Events for one object that arrive out of
// order a moment apart are fetched together and race for the object lock;
// whichever won used to be applied first, so an older version could create
// the partner object and the newer one, finding it linked, only advanced the
// watermark. Making an older version wait until the newer ones in flight
// are done applies the newest first; the older one then meets the newer
// watermark and is skipped as stale, or, if the newer event did not match
// any trigger, is applied as it would have been in order.
//
// It only sees this process's jobs: across processes, the link watermark
// still keeps a stale version from overwriting a newer one.
type objectVersions struct {
	mu      sync.Mutex
	objects map[string]*objectFlight
}

type objectFlight struct {
	versions map[order]int // version → jobs delivering it
	changed  chan struct{} // closed and replaced when a job leaves
}

func newObjectVersions() *objectVersions {
	return &objectVersions{objects: map[string]*objectFlight{}}
}

// enter records a job delivering version of key; call the returned leave
// when it is done.
func (o *objectVersions) enter(key string, version order) (leave func()) {
	o.mu.Lock()
	f := o.objects[key]
	if f == nil {
		f = &objectFlight{versions: map[order]int{}, changed: make(chan struct{})}
		o.objects[key] = f
	}
	f.versions[version]++
	o.mu.Unlock()
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		f.versions[version]--
		if f.versions[version] == 0 {
			delete(f.versions, version)
		}
		close(f.changed)
		f.changed = make(chan struct{})
		if len(f.versions) == 0 {
			delete(o.objects, key)
		}
	}
}

// hasNewer reports whether a job delivering a version newer than version
// of key is in flight.
func (o *objectVersions) hasNewer(key string, version order) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.newerLocked(key, version)
}

func (o *objectVersions) newerLocked(key string, version order) bool {
	f := o.objects[key]
	if f == nil {
		return false
	}
	for v := range f.versions {
		if version.less(v) {
			return true
		}
	}
	return false
}

// waitNewer blocks until no job delivering a version newer than version of
// key is in flight, or ctx ends.
func (o *objectVersions) waitNewer(ctx context.Context, key string, version order) error {
	for {
		o.mu.Lock()
		newer := o.newerLocked(key, version)
		var changed chan struct{}
		if f := o.objects[key]; f != nil {
			changed = f.changed
		}
		o.mu.Unlock()
		if !newer {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}
