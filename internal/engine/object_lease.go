package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/store"
)

// leaseTTL outlives any single partner write (the connector's timeout is
// 30s by default), so a live holder never loses its lease mid-write, while a
// crashed holder's lease frees itself within a minute.
const leaseTTL = time.Minute

// holderID names this process to the lease table.
var holderID = "accord-" + uuid.NewString()

// leaseObject extends the in-process lock across processes where several
// can work the same queue (PostgreSQL). SQLite deployments are one process
// (the single writer), where the in-process lock is the whole story.
func (e *Engine) leaseObject(ctx context.Context, key store.LinkKey) (acquired bool, release func(), err error) {
	if e.deps.Store.Dialect() != store.DialectPostgres {
		return true, func() {}, nil
	}
	h := sha256.Sum256([]byte(lockKey(key)))
	name := "object:" + hex.EncodeToString(h[:16])
	ok, err := e.deps.Store.AcquireLease(ctx, key.TenantID, name, holderID, leaseTTL)
	if err != nil || !ok {
		return false, nil, err
	}
	return true, func() {
		// Released with a fresh context: the job's may be done, and a
		// lease left behind would stall the object for leaseTTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = e.deps.Store.ReleaseLease(rctx, key.TenantID, name, holderID)
	}, nil
}
