package postgres

import "time"

// queries implements store.Queries over the pool (each call its own
// transaction) or over a pgx.Tx.
type queries struct {
	read  execer
	write execer
	// coord writes object leases: coordination rows, committed without
	// waiting for the WAL flush (see Open). In a transaction it is the
	// transaction.
	coord execer
	now   func() time.Time
}
