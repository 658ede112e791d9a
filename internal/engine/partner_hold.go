package engine

import (
	"context"
	"fmt"
	"time"
)

// sharePartnerHold records a partner's Retry-After for every process: with
// several workers, one worker's 429 used to slow only itself while the
// others kept calling the partner.
func (e *Engine) sharePartnerHold(ctx context.Context, tenantID, provider string, wait time.Duration) {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := e.deps.Store.HoldPartner(hctx, tenantID, provider, e.deps.Now().Add(wait)); err != nil {
		e.deps.Logger.WarnContext(ctx, "sharing a partner's Retry-After with other processes", "tenant_id", tenantID,
			"provider", provider, "err", err)
	}
}

// ApplyPartnerHolds applies the Retry-After holds any process recorded to
// this process's rate limiters and returns how many are in force. A hold
// this process set itself changes nothing; a new one holds the tenant's
// writes to that partner here too.
func (e *Engine) ApplyPartnerHolds(ctx context.Context) (int, error) {
	now := e.deps.Now()
	holds, err := e.deps.Store.ListPartnerHolds(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("listing partner holds: %w", err)
	}
	for _, h := range holds {
		if cn, ok := e.connectors[h.Provider]; ok {
			cn.Limiter().Backoff(h.TenantID, h.Until.Sub(now))
		}
	}
	return len(holds), nil
}
