package credential

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MissingMasterKeyError means stored data keys are wrapped by master keys
// this process does not hold (or holds under the right id but with other
// key bytes). Every secret of those tenants would fail to open, so a
// process must not start with it.
type MissingMasterKeyError struct {
	// KeyIDs are the master key ids that cannot unwrap their data keys,
	// sorted.
	KeyIDs []string
	// Tenants counts the tenants whose data keys they wrap.
	Tenants int
	// Err is the KMS's error for the first of them (ErrUnknownKey or
	// ErrDecrypt).
	Err error
}

func (e *MissingMasterKeyError) Error() string {
	return fmt.Sprintf("credential: the data keys of %d tenant(s) are wrapped by master key %s, which this process does not hold: "+
		"configure that key (master_key_file, or master_key_previous_file while a rotation finishes); "+
		"a new key cannot open them", e.Tenants, quoteAll(e.KeyIDs))
}

func (e *MissingMasterKeyError) Unwrap() error { return e.Err }

func quoteAll(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}

// CheckMasterKeys proves, before any request needs a secret, that the
// vault's KMS can unwrap the stored data keys: for each master key id in
// use it unwraps one data key. It returns *MissingMasterKeyError when an id
// is not held (a lost or unconfigured key file) or its key is not the one
// that wrapped them; start-up must stop then, because otherwise every
// secret of those tenants fails at the first request, long after the
// cause.
func (v *Vault) CheckMasterKeys(ctx context.Context) error {
	kms := v.currentKMS()
	checked := map[string]error{} // id → result of its one unwrap
	tenants := map[string]int{}
	after := ""
	for {
		page, err := v.st.ListDataKeys(ctx, after, v.cfg.RotatePageSize)
		if err != nil {
			return fmt.Errorf("credential: checking master keys: listing data keys: %w", err)
		}
		for _, k := range page {
			after = k.TenantID
			tenants[k.MasterKeyID]++
			if _, done := checked[k.MasterKeyID]; done {
				continue
			}
			dk, err := kms.Unwrap(ctx, k.Wrapped, k.MasterKeyID)
			clear(dk)
			if err != nil && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrDecrypt) {
				return fmt.Errorf("credential: checking master key %q: %w", k.MasterKeyID, err)
			}
			checked[k.MasterKeyID] = err
		}
		if len(page) < v.cfg.RotatePageSize {
			break
		}
	}
	missing := &MissingMasterKeyError{}
	for id, err := range checked {
		if err != nil {
			missing.KeyIDs = append(missing.KeyIDs, id)
			missing.Tenants += tenants[id]
		}
	}
	if len(missing.KeyIDs) == 0 {
		return nil
	}
	slices.Sort(missing.KeyIDs)
	missing.Err = checked[missing.KeyIDs[0]]
	return missing
}
