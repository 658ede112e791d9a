package sqlite

import "time"

// queries implements store.Queries. On the Store, read is the read-only pool
// and write the writer; on a Tx both are the transaction, so reads see the
// transaction's own writes.
type queries struct {
	read  execer
	write execer
	now   func() time.Time
}
