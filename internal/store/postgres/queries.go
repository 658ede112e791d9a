package postgres

import "time"

// queries implements store.Queries over the pool (each call its own
// transaction) or over a pgx.Tx.
type queries struct {
	read  execer
	write execer
	now   func() time.Time
}
