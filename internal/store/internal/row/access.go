package row

import (
	"fmt"

	"github.com/accordhq/accord/internal/store"
)

// CheckAPIToken rejects a token the tables' CHECK constraints would, with
// a clearer error: an unknown role, a tenant role without a tenant, an
// admin or operator bound to one, or no hash.
func CheckAPIToken(prefix, op string, t store.APIToken) error {
	switch {
	case !t.Role.Valid():
		return fmt.Errorf("%s: %s: unknown role %q", prefix, op, t.Role)
	case t.Role == store.RoleTenant && t.TenantID == "":
		return fmt.Errorf("%s: %s: a tenant token needs a tenant", prefix, op)
	case (t.Role == store.RoleAdmin || t.Role == store.RoleOperator) && t.TenantID != "":
		return fmt.Errorf("%s: %s: an %s token cannot be bound to a tenant", prefix, op, t.Role)
	case len(t.Hash) == 0:
		return fmt.Errorf("%s: %s: Hash is required", prefix, op)
	}
	return nil
}

// CheckUILink rejects a link that could never expire.
func CheckUILink(prefix, op string, l store.UILink) error {
	if l.ExpiresAt.IsZero() {
		return fmt.Errorf("%s: %s: ExpiresAt is required", prefix, op)
	}
	return nil
}
