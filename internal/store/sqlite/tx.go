package sqlite

import (
	"context"
	"database/sql"

	"github.com/accordhq/accord/internal/store"
)

// Tx is a write transaction on the single writer connection.
type Tx struct {
	queries
	tx *sql.Tx
}

var _ store.Tx = (*Tx)(nil)

// LockConnection reads the connection. The transaction began IMMEDIATE and
// so already holds the database's write lock until it ends: no other writer
// can change the connection meanwhile.
func (t *Tx) LockConnection(ctx context.Context, tenantID, id string) (store.Connection, error) {
	return t.GetConnection(ctx, tenantID, id)
}

// Driver returns the *sql.Tx, so the queue can insert jobs in it.
func (t *Tx) Driver() any { return t.tx }
