package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func chain(entries ...store.AuditEntry) []store.AuditEntry {
	var prev []byte
	for i := range entries {
		entries[i].Seq = int64(i + 1)
		entries[i].PrevHash = prev
		entries[i].Hash = store.AuditHash(prev, entries[i])
		prev = entries[i].Hash
	}
	return entries
}

func TestVerifyAuditChain(t *testing.T) {
	t.Parallel()
	ts := time.Date(2025, 1, 2, 3, 4, 5, 6789, time.UTC)
	e := store.AuditEntry{TenantID: "t1", Actor: "ab", Action: "c", Subject: "s", Detail: json.RawMessage(`{}`),
		CreatedAt: ts}
	good := chain(e, e, e)
	require.NoError(t, store.VerifyAuditChain(nil))
	require.NoError(t, store.VerifyAuditChain(good))
	require.NoError(t, store.VerifyAuditChain(good[1:]), "a page after seq 1")

	// Field boundaries are part of the hash: moving a byte from one field
	// to the next changes it.
	shifted := e
	shifted.Actor, shifted.Action = "a", "bc"
	require.NotEqual(t, store.AuditHash(nil, e), store.AuditHash(nil, shifted))

	// Sub-microsecond differences vanish in storage, so they must not
	// change the hash; a microsecond must.
	later := e
	later.CreatedAt = ts.Add(100 * time.Nanosecond)
	require.Equal(t, store.AuditHash(nil, e), store.AuditHash(nil, later))
	later.CreatedAt = ts.Add(time.Microsecond)
	require.NotEqual(t, store.AuditHash(nil, e), store.AuditHash(nil, later))
	inZone := e
	inZone.CreatedAt = ts.In(time.FixedZone("X", 3600))
	require.Equal(t, store.AuditHash(nil, e), store.AuditHash(nil, inZone), "the zone is not content")

	tests := []struct {
		name   string
		mutate func([]store.AuditEntry)
	}{
		{"subject", func(es []store.AuditEntry) { es[1].Subject = "other" }},
		{"detail", func(es []store.AuditEntry) { es[2].Detail = json.RawMessage(`{ }`) }},
		{"tenant", func(es []store.AuditEntry) { es[0].TenantID = "t2" }},
		{"seq gap", func(es []store.AuditEntry) { es[2].Seq = 4 }},
		{"seq zero", func(es []store.AuditEntry) { es[0].Seq = 0 }},
		{"prev hash", func(es []store.AuditEntry) { es[1].PrevHash = es[0].PrevHash }},
		{"hash", func(es []store.AuditEntry) { es[2].Hash = es[1].Hash }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			es := append([]store.AuditEntry(nil), good...)
			tc.mutate(es)
			err := store.VerifyAuditChain(es)
			require.ErrorIs(t, err, store.ErrAuditChainBroken)
			var ce *store.AuditChainError
			require.ErrorAs(t, err, &ce)
		})
	}
}
