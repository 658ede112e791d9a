package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// ErrOverridesInvalid is returned for an installation whose stored
// overrides do not fit its contract version (one loaded since, say): its
// events wait, like those of a version that is not loaded, until the
// overrides are fixed through the API.
var ErrOverridesInvalid = errors.New("engine: installation overrides do not fit its contract")

// InstallationOverrides reads an installation's stored overrides (none
// when it has none).
func InstallationOverrides(inst store.Installation) (spec.Overrides, error) {
	var o spec.Overrides
	if len(inst.Overrides) == 0 {
		return o, nil
	}
	if err := json.Unmarshal(inst.Overrides, &o); err != nil {
		return o, fmt.Errorf("reading the overrides of installation %s: %w", inst.ID, err)
	}
	return o, nil
}

// installation returns inst's contract compiled with its overrides, and
// the overrides (for its switched-off triggers). Installations without
// field overrides share the contract's compilation; those with the same
// overrides share theirs (the key is the overrides' canonical JSON, so
// changing them compiles afresh and leaves the old entry, as an upgrade
// leaves the old version's).
func (r *runtime) installation(inst store.Installation) (*compiledContract, spec.Overrides, error) {
	o, err := InstallationOverrides(inst)
	if err != nil {
		return nil, o, err
	}
	if len(o.Fields) == 0 {
		cc, err := r.contract(inst.Contract, inst.ContractVersion)
		return cc, o, err
	}
	c, err := r.catalog.Contract(inst.Contract, inst.ContractVersion)
	if err != nil {
		return nil, o, err
	}
	fields, err := json.Marshal(o.Fields) // map keys sorted: canonical
	if err != nil {
		return nil, o, fmt.Errorf("installation %s: %w", inst.ID, err)
	}
	key := c.Name + "@" + c.Version + "\x00" + string(fields)
	r.mu.Lock()
	defer r.mu.Unlock()
	if cc, ok := r.cache[key]; ok {
		return cc, o, nil
	}
	if probs := c.CheckOverrides(r.catalog.Providers, spec.Overrides{Fields: o.Fields}); len(probs) > 0 {
		msgs := make([]string, len(probs))
		for i, p := range probs {
			msgs[i] = p.String()
		}
		return nil, o, fmt.Errorf("%w: installation %s, contract %s %s: %s", ErrOverridesInvalid, inst.ID, c.Name, c.Version, strings.Join(msgs, "; "))
	}
	cc, err := compileContract(c.WithOverrides(o), r.catalog.Providers)
	if err != nil {
		return nil, o, fmt.Errorf("compiling contract %s@%s with the overrides of installation %s: %w", c.Name, c.Version, inst.ID, err)
	}
	r.cache[key] = cc
	return cc, o, nil
}
