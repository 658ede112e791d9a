package postgres

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
	tag, err := q.write.Exec(ctx, `UPDATE connections SET settings = $1, version = version + 1, updated_at = $2
		WHERE tenant_id = $3 AND id = $4`, enc, encTime(q.now()), tenantID, id)
	return oneRow(op, tag, err)
}
