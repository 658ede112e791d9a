package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/store"
)

// leaseTTL is how long a holder that stopped renewing (crashed, cut off)
// blocks an object. A live holder renews every leaseTTL/3 while its action
// runs, however many partner calls it makes.
const leaseTTL = 30 * time.Second

// holderID names this process to the lease table.
var holderID = "accord-" + uuid.NewString()

// HolderID is the name under which this process holds object leases, for
// releasing them all at shutdown.
func HolderID() string { return holderID }

// errLeaseLost fences a write whose lease could not be renewed in time:
// another process may own the object now, so this one must not write.
var errLeaseLost = errors.New("engine: object lease lost")

// objectLease is this process's claim on one object across processes.
// fence is called before every partner call: it fails once the lease may
// have expired (not confirmed within half its TTL), so a holder that was
// paused or cut off past its lease never writes after another took over.
type objectLease struct {
	fence   func() error
	release func()
}

// leaseObject extends the in-process lock across processes where several
// may work the same queue (stores with cross-process leases). A store that
// is one process per database (SQLite, enforced at open) needs only the
// in-process lock.
func (e *Engine) leaseObject(ctx context.Context, key store.LinkKey) (*objectLease, bool, error) {
	if e.deps.Store.Dialect() != store.DialectPostgres {
		return &objectLease{fence: func() error { return nil }, release: func() {}}, true, nil
	}
	h := sha256.Sum256([]byte(lockKey(key)))
	name := "object:" + hex.EncodeToString(h[:16])
	st, now := e.deps.Store, e.deps.Now
	ok, err := st.AcquireLease(ctx, key.TenantID, name, holderID, leaseTTL)
	if err != nil || !ok {
		return nil, false, err
	}
	var mu sync.Mutex
	confirmed := now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseTTL/3)
			at := now()
			// Renew, never re-acquire: a lease that expired may have been
			// taken and released by another process in between, and this
			// holder must not write after that.
			ok, err := st.RenewLease(rctx, key.TenantID, name, holderID, leaseTTL)
			cancel()
			if err == nil && ok {
				mu.Lock()
				confirmed = at
				mu.Unlock()
			} else if err == nil {
				return // expired: the fence stays shut
			}
		}
	}()
	return &objectLease{
		fence: func() error {
			mu.Lock()
			defer mu.Unlock()
			if now().Sub(confirmed) > leaseTTL/2 {
				return errLeaseLost
			}
			return nil
		},
		release: func() {
			close(stop)
			<-done
			// Released with a fresh context: the job's may be done, and a
			// lease left behind would stall the object for leaseTTL.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = st.ReleaseLease(rctx, key.TenantID, name, holderID)
		},
	}, true, nil
}
