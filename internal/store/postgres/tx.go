package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/accordhq/accord/internal/store"
)

// Tx is a transaction on one pooled connection.
type Tx struct {
	queries
	tx pgx.Tx
}

var _ store.Tx = (*Tx)(nil)

// LockConnection reads the connection FOR UPDATE: a second locker waits
// until this transaction ends, then reads the committed row.
func (t *Tx) LockConnection(ctx context.Context, tenantID, id string) (store.Connection, error) {
	c, err := scanConnection(t.tx.QueryRow(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id))
	if err != nil {
		return store.Connection{}, wrapErr("locking connection", err)
	}
	return c, nil
}

// Driver returns the pgx.Tx, so the queue can insert jobs in it.
func (t *Tx) Driver() any { return t.tx }
