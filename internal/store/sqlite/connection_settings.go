package sqlite

import (
	"context"

	"github.com/accordhq/accord/internal/store/internal/row"
)

func (q *queries) SetConnectionSettings(ctx context.Context, tenantID, id string, settings map[string]string) error {
	const op = "setting connection settings"
	enc, err := row.Settings(settings)
	if err != nil {
		return wrapErr(op, err)
	}
	res, err := q.write.ExecContext(ctx, `UPDATE connections SET settings = ?, version = version + 1, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, enc, encTime(q.now()), tenantID, id)
	return oneRow(op, res, err)
}
