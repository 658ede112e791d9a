package row

import (
	"errors"
	"fmt"

	"github.com/accordhq/accord/internal/store"
)

// Kind is what a dialect makes of a driver error.
type Kind int

const (
	// Other is any error the store does not translate.
	Other Kind = iota
	// NoRows: the statement matched no row.
	NoRows
	// Unique: a unique or primary key violation.
	Unique
	// ForeignKey: a foreign key violation.
	ForeignKey
)

// Wrap turns a driver error of kind into the store's, prefixed with the
// dialect and op: NoRows → ErrNotFound, Unique → ErrConflict (the driver
// error kept), ForeignKey → ErrNotFound (the tenant or row referred to does
// not exist). A nil err is nil.
func Wrap(prefix, op string, err error, kind Kind) error {
	if err == nil {
		return nil
	}
	switch kind {
	case NoRows:
		return fmt.Errorf("%s: %s: %w", prefix, op, store.ErrNotFound)
	case Unique:
		return fmt.Errorf("%s: %s: %w: %w", prefix, op, store.ErrConflict, err)
	case ForeignKey:
		return fmt.Errorf("%s: %s: tenant or referenced row missing: %w", prefix, op, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %s: %w", prefix, op, err)
}

// Single returns the one row of out, keyed by a globally unique key alone
// (what names it in errors): none is ErrNotFound, two mean the key is not
// unique across tenants, which must not resolve to either.
func Single[T any](prefix, op, what string, out []T) (T, error) {
	var zero T
	switch len(out) {
	case 0:
		return zero, Wrap(prefix, op, errNoRows, NoRows)
	case 1:
		return out[0], nil
	}
	return zero, fmt.Errorf("%s: %s: %s shared by two tenants", prefix, op, what)
}

var errNoRows = errors.New("no rows")

// StaleLink is UpsertLink's answer when the stored link is newer than l:
// it names the key and version, never field values.
func StaleLink(prefix, op string, l store.Link) error {
	return fmt.Errorf("%s: %s %s/%s/%s/%s/%s action %q at version %d: %w", prefix, op,
		l.TenantID, l.InstallationID, l.SourceObject, l.SourceID, l.TargetObject, l.Action, l.Version, store.ErrStaleLink)
}
