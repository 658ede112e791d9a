package engine_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/store"
)

const badLink = 17 // index of the link whose installation does not exist

// links returns n links of different tickets; link badLink names an
// installation that does not exist, which the store refuses (foreign key).
func (tb *testBundle) links(n int) []store.Link {
	out := make([]store.Link, n)
	for i := range out {
		inst := tb.installation.ID
		if i == badLink {
			inst = "inst_missing"
		}
		out[i] = store.Link{
			LinkKey: store.LinkKey{
				TenantID: tb.tenantID, InstallationID: inst, SourceObject: "ticket",
				SourceID: "T-" + itoa(i), TargetObject: "incidents.incident",
			},
			TargetID: "inc_" + itoa(i), Version: int64(i + 1), Fields: json.RawMessage(`{"title":"t` + itoa(i) + `"}`),
		}
	}
	return out
}

// requireOnlyBadLinkFailed checks each write's own result and that exactly
// the good links landed.
func (tb *testBundle) requireOnlyBadLinkFailed(t *testing.T, links []store.Link, errs []error) {
	t.Helper()
	for i, l := range links {
		got, err := tb.store.GetLink(t.Context(), l.LinkKey)
		if i == badLink {
			require.ErrorIs(t, errs[i], store.ErrNotFound, "the bad link's own write fails: its installation is missing")
			require.ErrorIs(t, err, store.ErrNotFound)
			continue
		}
		require.NoError(t, errs[i], "link %d: a neighbour's bad link must not fail it", i)
		require.NoError(t, err, "link %d", i)
		require.Equal(t, l.TargetID, got.TargetID)
		require.Equal(t, l.Version, got.Version)
		require.JSONEq(t, string(l.Fields), string(got.Fields))
	}
}

// writeAll writes every link from its own goroutine and returns each
// write's result.
func writeAll(links []store.Link, write func(store.Link) error) []error {
	errs := make([]error, len(links))
	var wg sync.WaitGroup
	for i, l := range links {
		wg.Go(func() { errs[i] = write(l) })
	}
	wg.Wait()
	return errs
}

func TestLinkWriterBadLinkFailsOnlyItsOwnWrite(t *testing.T) {
	t.Parallel()

	t.Run("one batch", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		// Every write is queued before the committer starts, so all of
		// them share its first transaction, which the bad one breaks.
		w := engine.NewLinkWriterForTest(tb.store)
		t.Cleanup(w.Close)
		links := tb.links(51)
		done := make(chan []error, 1)
		go func() {
			done <- writeAll(links, func(l store.Link) error { return w.Write(t.Context(), l) })
		}()
		deadline := time.Now().Add(10 * time.Second)
		for w.Queued() < len(links) {
			require.True(t, time.Now().Before(deadline), "writes never queued")
			time.Sleep(time.Millisecond)
		}
		w.Start()
		tb.requireOnlyBadLinkFailed(t, links, <-done)
	})

	t.Run("engine's writer", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		links := tb.links(51)
		errs := writeAll(links, func(l store.Link) error { return tb.engine.WriteLinkForTest(t.Context(), l) })
		tb.requireOnlyBadLinkFailed(t, links, errs)
	})
}

func TestLinkWriterWriteAfterCloseFails(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.engine.Close()

	// A job still running after shutdown began must get an error it
	// retries on, not wait forever for a committer that is gone.
	for i, l := range tb.links(20) {
		res := make(chan error, 1)
		go func() { res <- tb.engine.WriteLinkForTest(t.Context(), l) }()
		select {
		case err := <-res:
			require.ErrorIs(t, err, engine.ErrLinkWriterStopped, "write %d", i)
		case <-time.After(5 * time.Second):
			t.Fatalf("write %d after close waits forever", i)
		}
	}
}
