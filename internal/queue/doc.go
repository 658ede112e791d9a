// Package queue is Accord's job queue: River (github.com/riverqueue/river)
// over the store's database, SQLite or PostgreSQL, behind one small type.
//
// Job kinds are registered once in a Registry (AddWorker, AddPeriodic); New
// builds a Queue over a store.Store and hides River's generic transaction
// type, so callers insert jobs the same way on both databases — InsertTx
// puts the job in the caller's store transaction, so the job and the rows
// that caused it commit together or not at all.
//
// Workers steer the engine with their errors: return Snooze(d) to try again
// later without using up an attempt (a partner's Retry-After), Cancel(err)
// for a failure no retry can fix, and any other error to be retried with
// the Config's backoff until MaxAttempts.
//
// SQLite: River works on the store's single writer connection. It never
// holds that connection while waiting for another, but anything else that
// holds it (an open store transaction) stalls River's loops, so keep
// transactions short, and inside one always use InsertTx, never Insert:
// Insert needs the connection the transaction is holding and would wait
// for it forever.
package queue
