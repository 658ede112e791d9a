package row

import (
	"cmp"
	"slices"

	"github.com/accordhq/accord/internal/store"
)

// Scanner is a single row or a result set's current row.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is a result set (*sql.Rows, pgx.Rows); closing it is the caller's.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Collect scans every row of rows.
func Collect[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SortEvents orders events as the pending scans do (received_at, tenant,
// id): UPDATE … RETURNING hands rows back in no set order.
func SortEvents(es []store.Event) {
	slices.SortFunc(es, func(a, b store.Event) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.ID, b.ID))
	})
}
