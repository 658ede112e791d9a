package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func hashOf(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func testAPITokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "t1")
	admin := store.APIToken{ID: "tok_a", Hash: hashOf("secret-a"), Name: "ops", Role: store.RoleAdmin,
		CreatedBy: "admin_token", CreatedAt: at(0)}
	tenant := store.APIToken{ID: "tok_t", Hash: hashOf("secret-t"), Name: "host", Role: store.RoleTenant, TenantID: "t1",
		CreatedBy: "token:tok_a", CreatedAt: at(time.Second), ExpiresAt: at(time.Hour)}
	require.NoError(t, s.CreateAPIToken(ctx, admin))
	require.NoError(t, s.CreateAPIToken(ctx, tenant))

	dupID := tenant
	dupID.Hash = hashOf("other")
	require.ErrorIs(t, s.CreateAPIToken(ctx, dupID), store.ErrConflict, "same id")
	dupHash := tenant
	dupHash.ID = "tok_other"
	require.ErrorIs(t, s.CreateAPIToken(ctx, dupHash), store.ErrConflict, "same hash")

	for name, bad := range map[string]store.APIToken{
		"unknown role":          {ID: "tok_x", Hash: hashOf("x"), Role: "root"},
		"tenant without tenant": {ID: "tok_x", Hash: hashOf("x"), Role: store.RoleTenant},
		"operator with tenant":  {ID: "tok_x", Hash: hashOf("x"), Role: store.RoleOperator, TenantID: "t1"},
		"no hash":               {ID: "tok_x", Role: store.RoleViewer},
	} {
		err := s.CreateAPIToken(ctx, bad)
		require.Error(t, err, name)
		require.NotErrorIs(t, err, store.ErrConflict, name)
	}
	// A viewer may be bound to a tenant or not.
	require.NoError(t, s.CreateAPIToken(ctx, store.APIToken{ID: "tok_v", Hash: hashOf("v"), Role: store.RoleViewer, TenantID: "t1", CreatedAt: at(2 * time.Second)}))

	got, err := s.GetAPITokenByHash(ctx, hashOf("secret-t"))
	require.NoError(t, err)
	want := tenant
	want.CreatedAt, want.ExpiresAt = norm(want.CreatedAt), norm(want.ExpiresAt)
	require.Equal(t, want, got)
	got, err = s.GetAPIToken(ctx, "tok_a")
	require.NoError(t, err)
	require.True(t, got.ExpiresAt.IsZero())
	require.True(t, got.RevokedAt.IsZero())
	_, err = s.GetAPITokenByHash(ctx, hashOf("nope"))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetAPIToken(ctx, "tok_nope")
	require.ErrorIs(t, err, store.ErrNotFound)

	list, err := s.ListAPITokens(ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	require.Equal(t, []string{"tok_a", "tok_t", "tok_v"}, []string{list[0].ID, list[1].ID, list[2].ID}, "oldest first")

	require.NoError(t, s.RevokeAPIToken(ctx, "tok_t", at(time.Minute)))
	require.NoError(t, s.RevokeAPIToken(ctx, "tok_t", at(time.Hour)), "revoking twice is no error")
	got, err = s.GetAPITokenByHash(ctx, hashOf("secret-t"))
	require.NoError(t, err, "a revoked token is still found: the caller says why it refuses")
	require.Equal(t, norm(at(time.Minute)), got.RevokedAt, "the first revocation stands")
	require.ErrorIs(t, s.RevokeAPIToken(ctx, "tok_nope", at(0)), store.ErrNotFound)
}

func testUILinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "t1")
	seed(t, s, "t2")
	l := store.UILink{TenantID: "t1", ID: "link_1", ExpiresAt: at(time.Minute), CreatedAt: at(0)}
	require.NoError(t, s.CreateUILink(ctx, l))
	require.ErrorIs(t, s.CreateUILink(ctx, l), store.ErrConflict)
	require.Error(t, s.CreateUILink(ctx, store.UILink{TenantID: "t1", ID: "link_x"}), "no expiry")

	_, err := s.ConsumeUILink(ctx, "t2", "link_1")
	require.ErrorIs(t, err, store.ErrNotFound, "another tenant cannot use it")

	// Of concurrent uses exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan store.UILink, 8)
	for range 8 {
		wg.Go(func() {
			if got, err := s.ConsumeUILink(ctx, "t1", "link_1"); err == nil {
				wins <- got
			}
		})
	}
	wg.Wait()
	close(wins)
	require.Len(t, wins, 1)
	got := <-wins
	require.Equal(t, store.UILink{TenantID: "t1", ID: "link_1", ExpiresAt: norm(l.ExpiresAt), CreatedAt: norm(l.CreatedAt)}, got)
	_, err = s.ConsumeUILink(ctx, "t1", "link_1")
	require.ErrorIs(t, err, store.ErrNotFound, "single use")

	require.NoError(t, s.CreateUILink(ctx, store.UILink{TenantID: "t1", ID: "old", ExpiresAt: at(time.Minute)}))
	require.NoError(t, s.CreateUILink(ctx, store.UILink{TenantID: "t2", ID: "new", ExpiresAt: at(time.Hour)}))
	n, err := s.DeleteExpiredUILinks(ctx, at(2*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = s.ConsumeUILink(ctx, "t2", "new")
	require.NoError(t, err)
}

func testHealthCounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	g := seed(t, s, "t2")
	conn2 := f.conn
	conn2.ID = "conn_other"
	require.NoError(t, s.CreateConnection(ctx, conn2))

	insert := func(tenant, conn, id string, received time.Time) {
		t.Helper()
		ok, err := s.InsertEvent(ctx, store.Event{TenantID: tenant, ID: id, ConnectionID: conn, DedupKey: id, Type: "ticket.escalated",
			ObjectID: "T-1", ObjectVersion: 1, Payload: json.RawMessage(`{}`), ReceivedAt: received})
		require.NoError(t, err)
		require.True(t, ok)
	}
	done := func(tenant, id, outcome string) {
		t.Helper()
		require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: tenant, ID: id, Outcome: outcome}}, store.EventDone))
	}
	insert("t1", f.conn.ID, "e_old", at(-48*time.Hour)) // outside a 24 h window
	done("t1", "e_old", "applied")
	insert("t1", f.conn.ID, "e1", at(-2*time.Hour))
	done("t1", "e1", "applied")
	insert("t1", f.conn.ID, "e2", at(-time.Hour))
	done("t1", "e2", "applied")
	insert("t1", f.conn.ID, "e3", at(-30*time.Minute))
	done("t1", "e3", "failed")
	insert("t1", f.conn.ID, "e4", at(-time.Minute)) // pending
	insert("t1", conn2.ID, "e5", at(-time.Minute))  // another connection
	done("t1", "e5", "applied")
	insert("t2", g.conn.ID, "e6", at(-time.Minute)) // another tenant
	done("t2", "e6", "applied")

	c, err := s.CountEvents(ctx, "t1", f.conn.ID, at(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, store.EventCounts{Outcomes: map[string]int{"applied": 2, "failed": 1}, InFlight: 1}, c)
	require.Equal(t, 4, c.Total())
	c, err = s.CountEvents(ctx, "t1", f.conn.ID, at(-7*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 3, c.Outcomes["applied"])
	c, err = s.CountEvents(ctx, "t2", f.conn.ID, at(-7*24*time.Hour))
	require.NoError(t, err)
	require.Zero(t, c.Total(), "another tenant's connection id counts nothing")

	last, err := s.LastEventWithOutcome(ctx, "t1", f.conn.ID, "applied")
	require.NoError(t, err)
	require.Equal(t, "e2", last.ID)
	require.Equal(t, norm(at(-time.Hour)), last.ReceivedAt)
	last, err = s.LastEventWithOutcome(ctx, "t1", f.conn.ID, "failed")
	require.NoError(t, err)
	require.Equal(t, "e3", last.ID)
	_, err = s.LastEventWithOutcome(ctx, "t1", f.conn.ID, "stale")
	require.ErrorIs(t, err, store.ErrNotFound)

	for i, re := range []struct {
		class  string
		status store.RecordErrorStatus
	}{{"auth", store.RecordErrorOpen}, {"auth", store.RecordErrorOpen}, {"validation", store.RecordErrorOpen}, {"auth", store.RecordErrorResolved}} {
		require.NoError(t, s.InsertRecordError(ctx, store.RecordError{TenantID: "t1", ID: fmtID("re_", i), InstallationID: f.inst.ID,
			Object: "ticket", SourceID: "T-1", Class: re.class, Message: "m", Remediation: "r", Status: re.status}))
	}
	counts, err := s.CountRecordErrors(ctx, "t1", f.inst.ID, store.RecordErrorOpen)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"auth": 2, "validation": 1}, counts)
	counts, err = s.CountRecordErrors(ctx, "t1", f.inst.ID, "")
	require.NoError(t, err)
	require.Equal(t, map[string]int{"auth": 3, "validation": 1}, counts)
	counts, err = s.CountRecordErrors(ctx, "t2", f.inst.ID, "")
	require.NoError(t, err)
	require.Empty(t, counts)

	list, err := s.ListRecordErrors(ctx, "t1", store.RecordErrorFilter{Class: "auth", Status: store.RecordErrorOpen})
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, e := range list {
		require.Equal(t, "auth", e.Class)
	}
}

// testHealthRollup: whole hours that ended over an hour ago are counted
// once into the rollup and read from it after; an hour with an event in
// flight is counted afresh until it settles.
func testHealthRollup(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	now := clock.Now()
	n := 0
	insert := func(received time.Time, outcome string) string {
		t.Helper()
		n++
		id := fmtID("e_", n)
		ok, err := s.InsertEvent(ctx, store.Event{TenantID: "t1", ID: id, ConnectionID: f.conn.ID, DedupKey: id, Type: "x",
			ObjectID: "o", ObjectVersion: 1, ReceivedAt: received})
		require.NoError(t, err)
		require.True(t, ok)
		if outcome != "" {
			require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: "t1", ID: id, Outcome: outcome}}, store.EventDone))
		}
		return id
	}
	insert(now.Add(-5*time.Hour), "applied")
	insert(now.Add(-5*time.Hour), "applied")
	insert(now.Add(-5*time.Hour+time.Minute), "failed")
	queued := insert(now.Add(-4*time.Hour), "")
	insert(now.Add(-30*time.Minute), "applied")
	insert(now.Add(-30*time.Hour), "applied") // before the window

	want := store.EventCounts{Outcomes: map[string]int{"applied": 3, "failed": 1}, InFlight: 1}
	for range 2 {
		c, err := s.CountEvents(ctx, "t1", f.conn.ID, now.Add(-24*time.Hour))
		require.NoError(t, err)
		require.Equal(t, want, c, "the first count seals the settled hours, the second reads them")
	}

	// The hour with an event in flight was not sealed: its outcome counts
	// once it is done.
	require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: "t1", ID: queued, Outcome: "applied"}}, store.EventDone))
	want = store.EventCounts{Outcomes: map[string]int{"applied": 4, "failed": 1}}
	c, err := s.CountEvents(ctx, "t1", f.conn.ID, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, want, c)
	hours, err := s.CountEventsByHour(ctx, "t1", f.conn.ID, now.Add(-24*time.Hour))
	require.NoError(t, err)
	hour := func(d time.Duration) time.Time { return now.Add(d).UTC().Truncate(time.Hour) }
	require.Equal(t, []store.EventHour{
		{Start: hour(-5 * time.Hour), Counts: store.EventCounts{Outcomes: map[string]int{"applied": 2, "failed": 1}}},
		{Start: hour(-4 * time.Hour), Counts: store.EventCounts{Outcomes: map[string]int{"applied": 1}}},
		{Start: hour(-30 * time.Minute), Counts: store.EventCounts{Outcomes: map[string]int{"applied": 1}}},
	}, hours, "hours with events, oldest first")

	// Sealed hours outlive the events' retention.
	deleted, err := s.DeleteDoneEventsBefore(ctx, now.Add(-4*time.Hour-30*time.Minute), 100)
	require.NoError(t, err)
	require.Equal(t, 4, deleted)
	c, err = s.CountEvents(ctx, "t1", f.conn.ID, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, want, c)

	// Hours later the recent event is sealed too; the window moves on.
	clock.Advance(3 * time.Hour)
	c, err = s.CountEvents(ctx, "t1", f.conn.ID, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, want, c)
	c, err = s.CountEvents(ctx, "t1", f.conn.ID, now.Add(-4*time.Hour-30*time.Minute))
	require.NoError(t, err)
	require.Equal(t, store.EventCounts{Outcomes: map[string]int{"applied": 2}}, c, "a window starting mid-hour counts that hour's events from the table")

	// A window starting after everything counts nothing.
	c, err = s.CountEvents(ctx, "t1", f.conn.ID, clock.Now())
	require.NoError(t, err)
	require.Zero(t, c.Total())
}

func testAuditNewest(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "t1")
	seed(t, s, "t2")
	for i, e := range []struct{ actor, action string }{
		{"token:a", "retry"}, {"token:b", "retry"}, {"token:a", "pause"}, {"token:a", "retry"}, {"token:b", "pause"},
	} {
		_, err := s.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: e.actor, Action: e.action, Subject: fmtID("s", i),
			Detail: json.RawMessage(`{"i":1}`)})
		require.NoError(t, err)
	}
	_, err := s.AppendAudit(ctx, store.AuditEntry{TenantID: "t2", Actor: "token:a", Action: "retry", Subject: "x"})
	require.NoError(t, err)

	seqs := func(es []store.AuditEntry) []int64 {
		out := []int64{}
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	tests := []struct {
		name   string
		before int64
		f      store.AuditFilter
		limit  int
		want   []int64
	}{
		{"all, newest first", 0, store.AuditFilter{}, 0, []int64{5, 4, 3, 2, 1}},
		{"page", 4, store.AuditFilter{}, 2, []int64{3, 2}},
		{"actor", 0, store.AuditFilter{Actor: "token:a"}, 0, []int64{4, 3, 1}},
		{"action", 0, store.AuditFilter{Action: "pause"}, 0, []int64{5, 3}},
		{"both, paged", 4, store.AuditFilter{Actor: "token:a", Action: "retry"}, 0, []int64{1}},
		{"none", 0, store.AuditFilter{Actor: "nobody"}, 0, []int64{}},
	}
	for _, tc := range tests {
		got, err := s.ListAuditNewest(ctx, "t1", tc.before, tc.f, tc.limit)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, seqs(got), tc.name)
	}
	got, err := s.ListAuditNewest(ctx, "t1", 0, store.AuditFilter{}, 1)
	require.NoError(t, err)
	require.Equal(t, "token:b", got[0].Actor)
	require.JSONEq(t, `{"i":1}`, string(got[0].Detail))
	require.NotEmpty(t, got[0].Hash)
}
