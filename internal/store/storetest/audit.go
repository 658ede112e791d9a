package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t2", Name: "two"}))

	// Detail is hashed byte for byte, so it must come back byte for byte,
	// whitespace and key order included.
	details := []json.RawMessage{
		json.RawMessage(`{"b": 1,  "a": [1, 2.50]}`),
		nil,
		json.RawMessage(`{"scopes":["x"]}`),
		json.RawMessage(`"plain"`),
		json.RawMessage(`{"a":1}`),
	}
	var appended []store.AuditEntry
	for i, d := range details {
		e, err := s.AppendAudit(ctx, store.AuditEntry{
			TenantID: "t1", Actor: "user:ana", Action: fmt.Sprintf("connection.update.%d", i),
			Subject: "conn_1", Detail: d, CreatedAt: at(time.Duration(i) * time.Second),
			Seq: 99, PrevHash: []byte("ignored"), Hash: []byte("ignored"),
		})
		require.NoError(t, err)
		require.Equal(t, int64(i+1), e.Seq, "seq assigned by the store")
		if i == 0 {
			require.Empty(t, e.PrevHash)
		} else {
			require.Equal(t, appended[i-1].Hash, e.PrevHash)
		}
		require.Len(t, e.Hash, 32)
		require.Equal(t, norm(at(time.Duration(i)*time.Second)), e.CreatedAt)
		appended = append(appended, e)
	}
	_, err := s.AppendAudit(ctx, store.AuditEntry{TenantID: "t2", Actor: "a", Action: "x", Subject: "s"})
	require.NoError(t, err)

	list, err := s.ListAudit(ctx, "t1", 0, 0)
	require.NoError(t, err)
	require.Len(t, list, len(details))
	for i := range list {
		require.Equal(t, appended[i], list[i], "entry %d reads back as appended", i+1)
		require.Equal(t, string(details[i]), string(list[i].Detail))
	}
	require.NoError(t, store.VerifyAuditChain(list))

	page, err := s.ListAudit(ctx, "t1", 2, 2)
	require.NoError(t, err)
	require.Equal(t, []int64{3, 4}, []int64{page[0].Seq, page[1].Seq})
	require.NoError(t, store.VerifyAuditChain(page))

	other, err := s.ListAudit(ctx, "t2", 0, 10)
	require.NoError(t, err)
	require.Len(t, other, 1)
	require.Equal(t, int64(1), other[0].Seq, "seq is per tenant")
	require.Empty(t, other[0].PrevHash)

	_, err = s.AppendAudit(ctx, store.AuditEntry{TenantID: "t_missing", Actor: "a", Action: "x"})
	require.ErrorIs(t, err, store.ErrNotFound)

	tamper := []struct {
		name   string
		mutate func(es []store.AuditEntry) []store.AuditEntry
	}{
		{"actor changed", func(es []store.AuditEntry) []store.AuditEntry { es[2].Actor = "user:eve"; return es }},
		{"detail changed", func(es []store.AuditEntry) []store.AuditEntry {
			es[0].Detail = json.RawMessage(`{"b": 2,  "a": [1, 2.50]}`)
			return es
		}},
		{"time changed", func(es []store.AuditEntry) []store.AuditEntry {
			es[1].CreatedAt = es[1].CreatedAt.Add(time.Microsecond)
			return es
		}},
		{"entry removed", func(es []store.AuditEntry) []store.AuditEntry { return append(es[:2], es[3:]...) }},
		{"entries swapped", func(es []store.AuditEntry) []store.AuditEntry { es[1], es[2] = es[2], es[1]; return es }},
		{"rehashed after edit", func(es []store.AuditEntry) []store.AuditEntry {
			es[1].Subject = "conn_2"
			es[1].Hash = store.AuditHash(es[1].PrevHash, es[1])
			return es
		}},
		{"first entry given a prev hash", func(es []store.AuditEntry) []store.AuditEntry {
			es[0].PrevHash = []byte("x")
			es[0].Hash = store.AuditHash(es[0].PrevHash, es[0])
			return es
		}},
		{"another tenant's entry spliced in", func(es []store.AuditEntry) []store.AuditEntry {
			o := other[0]
			o.Seq = 6
			return append(es, o)
		}},
	}
	for _, tc := range tamper {
		es := tc.mutate(append([]store.AuditEntry(nil), list...))
		err := store.VerifyAuditChain(es)
		require.ErrorIs(t, err, store.ErrAuditChainBroken, tc.name)
		var ce *store.AuditChainError
		require.ErrorAs(t, err, &ce, tc.name)
	}
}

// testAuditConcurrent appends from many goroutines: the chain must still
// have no gaps, no forks, and verify.
func testAuditConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: "worker",
				Action: fmt.Sprintf("a%d", i), Subject: "s"})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	list, err := s.ListAudit(ctx, "t1", 0, 100)
	require.NoError(t, err)
	require.Len(t, list, n)
	require.NoError(t, store.VerifyAuditChain(list))
}
