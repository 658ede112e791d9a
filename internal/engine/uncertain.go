package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// A write whose answer never came (a timeout, a reset after sending, a
// cancelled call) may still be applied by the partner, even after a newer
// write was answered: real APIs under load apply requests past the
// client's timeout. Such a write marks its link uncertain. Its object then
// settles instead of being assumed:
//
//   - a create that may have landed is not sent again until the provider's
//     answer window has passed; the retry then looks the object up (and
//     adopts what it finds) or relies on the idempotency key;
//   - once the window has passed, the settlement job re-sends the newest
//     written state (the link's fields) to the partner object, so a late
//     old write is overwritten, and clears the mark.

// ambiguous reports whether err leaves it unknown if the partner applied
// the request: no answer came although the request may have been sent.
func ambiguous(err error) bool {
	var ce *callError
	if errors.As(err, &ce) && ce.op == "lookup" {
		return false // a read: nothing was written, whatever the answer
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pe *connector.PartnerError
	if !errors.As(err, &pe) {
		return false
	}
	if pe.Policy {
		return false
	}
	if pe.Status == http.StatusGatewayTimeout {
		return true // a proxy gave up; the partner behind it may not have
	}
	if pe.Status != 0 || pe.Err == nil {
		return false
	}
	var op *net.OpError
	if errors.As(pe.Err, &op) && op.Op == "dial" {
		return false // never connected: nothing was sent
	}
	return true
}

// markUncertain records that key's last write may or may not have landed.
func (e *Engine) markUncertain(ctx context.Context, key store.LinkKey, since time.Time) {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.deps.Store.MarkLinkUncertain(mctx, key, since); err != nil {
		e.deps.Logger.ErrorContext(ctx, "recording an unanswered write failed", "tenant_id", key.TenantID,
			"installation_id", key.InstallationID, "action", key.Action, "source_id", key.SourceID, "err", err)
		return
	}
	e.metrics.uncertainMarked.Inc()
}

// answerWindow is how long after a write p may still apply it: the
// manifest's max_answer_window, else Config.MaxAnswerWindow.
func (e *Engine) answerWindow(p *spec.Provider) time.Duration {
	if p != nil && p.MaxAnswerWindow > 0 {
		return p.MaxAnswerWindow.D()
	}
	return e.cfg.MaxAnswerWindow
}

// shortestAnswerWindow is the least window of any loaded provider: links
// marked before now minus it may be due for settlement.
func (e *Engine) shortestAnswerWindow() time.Duration {
	w := e.cfg.MaxAnswerWindow
	for _, p := range e.deps.Catalog.Providers {
		w = min(w, e.answerWindow(p))
	}
	return w
}

// errNotDue: the link's partner may still apply its unanswered write.
var errNotDue = errors.New("engine: answer window not over")

// SettleArgs is the periodic job that settles uncertain writes.
type SettleArgs struct{}

// KindSettle is the job kind of SettleArgs.
const KindSettle = "accord_settle_uncertain_writes"

// Kind implements river.JobArgs.
func (SettleArgs) Kind() string { return KindSettle }

// InsertOpts keeps one settlement per interval.
func (SettleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: settleInterval}}
}

// settleInterval is how often the leader settles uncertain writes.
const settleInterval = 15 * time.Second

type settleWorker struct {
	river.WorkerDefaults[SettleArgs]
	e *Engine
}

func (w *settleWorker) Work(ctx context.Context, _ *river.Job[SettleArgs]) error {
	_, err := w.e.SettleUncertain(ctx)
	return err
}

// SettleUncertain settles every link marked uncertain longer ago than the
// answer window and returns how many it settled. One that cannot be
// settled now (partner down, connection paused) stays marked for the next
// run.
func (e *Engine) SettleUncertain(ctx context.Context) (int, error) {
	st := e.deps.Store
	if pending, err := st.ListUncertainLinks(ctx, e.deps.Now().Add(time.Hour), 10000); err == nil {
		e.metrics.uncertain.Set(float64(len(pending)))
	}
	links, err := st.ListUncertainLinks(ctx, e.deps.Now().Add(-e.shortestAnswerWindow()), 200)
	if err != nil {
		return 0, fmt.Errorf("listing uncertain writes: %w", err)
	}
	settled := 0
	for _, l := range links {
		err := e.settle(ctx, l)
		if errors.Is(err, errNotDue) {
			continue
		}
		if err != nil {
			e.deps.Logger.WarnContext(ctx, "settling an unanswered write failed; tried again later", "tenant_id", l.TenantID,
				"installation_id", l.InstallationID, "action", l.Action, "source_id", l.SourceID, "err", err)
			continue
		}
		settled++
	}
	if settled > 0 {
		e.deps.Logger.InfoContext(ctx, "settled unanswered partner writes", "links", settled)
	}
	return settled, nil
}

// settle re-sends the newest written state of one uncertain link (or, for
// a create that was never confirmed, adopts what the partner holds) under
// the object's lock and lease, then clears the mark.
func (e *Engine) settle(ctx context.Context, l store.Link) error {
	inst, err := e.deps.Store.GetInstallation(ctx, l.TenantID, l.InstallationID)
	if errors.Is(err, store.ErrNotFound) {
		return e.clearUncertain(ctx, l)
	}
	if err != nil {
		return err
	}
	ca, err := e.compiledAction(inst, l.Action)
	if err != nil {
		return err
	}
	if e.deps.Now().Before(l.UncertainSince.Add(e.answerWindow(ca.provider))) {
		return errNotDue // this partner's window is longer: not yet
	}
	conn, err := e.deps.Store.GetConnection(ctx, inst.TenantID, inst.Connections[ca.provider.Name])
	if err != nil {
		return fmt.Errorf("loading connection: %w", err)
	}
	if conn.State != store.ConnectionActive {
		return fmt.Errorf("connection %s is %s", conn.ID, conn.State)
	}
	unlock, err := e.locks.lock(ctx, lockKey(l.LinkKey))
	if err != nil {
		return err
	}
	defer unlock()
	lease, ok, err := e.leaseObject(ctx, l.LinkKey)
	if err != nil || !ok {
		return fmt.Errorf("object busy: %w", err)
	}
	defer lease.release()
	cur, err := e.deps.Store.GetLink(ctx, l.LinkKey)
	if err != nil {
		return err
	}
	if !cur.Uncertain {
		return nil // a write since settled it
	}
	auth, err := e.deps.Credentials.Authorizer(ctx, conn, ca.provider)
	if err != nil {
		return err
	}
	cn := e.connectors[ca.provider.Name]
	switch {
	case cur.TargetID != "" && len(cur.Fields) > 0:
		var doc map[string]any
		if err := json.Unmarshal(cur.Fields, &doc); err != nil {
			return fmt.Errorf("reading the newest written fields: %w", err)
		}
		res, err := e.update(ctx, cn, ca.target, connector.Call{Object: ca.target.Name, ID: cur.TargetID, Doc: doc, Auth: auth}, cur.ETag, lease.fence)
		if err == nil {
			cur.ETag = res.ETag
		}
		if err != nil {
			if ambiguous(err) {
				return err // still unknown: the mark stays, and so does its time
			}
			var pe *connector.PartnerError
			if !errors.As(err, &pe) || pe.Class != spec.ClassNotFound {
				return err
			}
		}
		e.metrics.uncertainSettled.WithLabelValues("resent").Inc()
	case cur.TargetID == "" && ca.target.Endpoints.FindByExternalID != nil:
		if err := lease.fence(); err != nil {
			return err
		}
		found, err := cn.FindByExternalID(ctx, connector.Call{Object: ca.target.Name, ExternalID: cur.SourceID, Auth: auth})
		switch {
		case err == nil && found.ID != "":
			// The create landed after all: adopt it (the event's retry
			// then updates it instead of creating a second one).
			cur.TargetID = found.ID
			e.metrics.uncertainSettled.WithLabelValues("adopted").Inc()
		case err != nil && !errors.Is(err, connector.ErrNotFound):
			return err
		default:
			e.metrics.uncertainSettled.WithLabelValues("absent").Inc()
		}
	default:
		// Nothing to compare with: the event's retry finishes the create
		// with its idempotency key.
		e.metrics.uncertainSettled.WithLabelValues("absent").Inc()
	}
	return e.clearUncertain(ctx, cur)
}

// clearUncertain rewrites the link as it is, which clears the mark (a
// newer write since is kept: the conditional upsert refuses this one and
// that write already cleared it).
func (e *Engine) clearUncertain(ctx context.Context, l store.Link) error {
	l.UpdatedAt = time.Time{}
	if err := e.deps.Store.UpsertLink(ctx, l); err != nil && !errors.Is(err, store.ErrStaleLink) && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// compiledAction finds the action name of inst's contract version.
func (e *Engine) compiledAction(inst store.Installation, name string) (*compiledAction, error) {
	cc, _, err := e.rt.installation(inst)
	if err != nil {
		return nil, err
	}
	for _, t := range cc.triggers {
		for _, ca := range t.actions {
			if ca.action.Name == name {
				return ca, nil
			}
		}
	}
	return nil, fmt.Errorf("contract %s %s has no action %q", inst.Contract, inst.ContractVersion, name)
}
