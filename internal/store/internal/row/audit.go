package row

import (
	"time"

	"github.com/accordhq/accord/internal/store"
)

// NextAudit completes e as the entry after the chain's head (seq last, hash
// prev; 0 and nil for an empty chain): it assigns Seq and PrevHash, fills a
// zero CreatedAt from now at the precision the chain hashes, and computes
// Hash. An empty Detail becomes nil, as it reads back.
func NextAudit(e store.AuditEntry, last int64, prev []byte, now func() time.Time) store.AuditEntry {
	e.Seq = last + 1
	e.PrevHash = prev
	e.CreatedAt = store.AuditTime(OrNow(e.CreatedAt, now))
	if len(e.Detail) == 0 {
		e.Detail = nil
	}
	e.Hash = store.AuditHash(e.PrevHash, e)
	return e
}
