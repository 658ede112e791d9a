package credential_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
	"github.com/accordhq/accord/internal/store/sqlite"
)

type testBundle struct {
	st    store.Store
	key   credential.MasterKey
	kms   *credential.LocalKMS
	vault *credential.Vault
}

func setup(t *testing.T, cfg *credential.Config) *testBundle {
	t.Helper()
	return setupWith(t, sqlite.OpenTest(t), cfg)
}

// forEachStore runs fn against SQLite and, when ACCORD_TEST_POSTGRES is
// set, PostgreSQL (where concurrent transactions really overlap).
func forEachStore(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, sqlite.OpenTest(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := os.Getenv("ACCORD_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
		}
		fn(t, postgres.OpenTestSchema(t, dsn))
	})
}

func setupWith(t *testing.T, st store.Store, cfg *credential.Config) *testBundle {
	t.Helper()
	key := newMasterKey(t)
	kms, err := credential.NewLocalKMS(key)
	require.NoError(t, err)
	v, err := credential.NewVault(st, kms, cfg)
	require.NoError(t, err)
	return &testBundle{st: st, key: key, kms: kms, vault: v}
}

func newMasterKey(t *testing.T) credential.MasterKey {
	t.Helper()
	enc, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	k, err := credential.ParseMasterKey(enc)
	require.NoError(t, err)
	return k
}

func createTenants(t *testing.T, st store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		require.NoError(t, st.CreateTenant(context.Background(), store.Tenant{ID: id, Name: id}))
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	createTenants(t, b.st, "t1")

	big := make([]byte, 64<<10)
	_, _ = rand.Read(big)
	for name, pt := range map[string][]byte{
		"empty": {},
		"short": []byte("hunter2"),
		"64KiB": big,
	} {
		sealed, err := b.vault.Seal(ctx, "t1", pt)
		require.NoError(t, err, name)
		require.False(t, len(pt) > 4 && bytes.Contains(sealed, pt[:len(pt)/2]), "%s: plaintext visible in ciphertext", name)

		got, err := b.vault.Open(ctx, "t1", sealed)
		require.NoError(t, err, name)
		require.Equal(t, len(pt), len(got), name)
		require.True(t, bytes.Equal(pt, got), name)
	}

	// Two seals of the same plaintext differ (random nonce).
	s1, err := b.vault.Seal(ctx, "t1", []byte("same"))
	require.NoError(t, err)
	s2, err := b.vault.Seal(ctx, "t1", []byte("same"))
	require.NoError(t, err)
	require.NotEqual(t, s1, s2)

	// A fresh vault (empty cache) over the same store and master key opens
	// it: the data key is persisted, not only cached.
	v2, err := credential.NewVault(b.st, b.kms, nil)
	require.NoError(t, err)
	got, err := v2.Open(ctx, "t1", s1)
	require.NoError(t, err)
	require.Equal(t, "same", string(got))
}

func TestOpenOtherTenantFails(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	createTenants(t, b.st, "alpha", "beta")

	sealed, err := b.vault.Seal(ctx, "alpha", []byte("alpha's token"))
	require.NoError(t, err)
	_, err = b.vault.Seal(ctx, "beta", []byte("beta has a key too"))
	require.NoError(t, err)

	_, err = b.vault.Open(ctx, "beta", sealed)
	require.ErrorIs(t, err, credential.ErrDecrypt)

	// Even if beta's row were given alpha's data key, the tenant id in the
	// associated data still refuses it.
	ak, err := b.st.GetDataKey(ctx, "alpha")
	require.NoError(t, err)
	ak.TenantID = "beta"
	require.NoError(t, b.st.PutDataKey(ctx, ak))
	v2, err := credential.NewVault(b.st, b.kms, nil)
	require.NoError(t, err)
	_, err = v2.Open(ctx, "beta", sealed)
	require.ErrorIs(t, err, credential.ErrDecrypt)

	// A tenant that never sealed anything has no key: nothing opens, and
	// Open does not create one.
	createTenants(t, b.st, "gamma")
	_, err = b.vault.Open(ctx, "gamma", sealed)
	require.ErrorIs(t, err, credential.ErrDecrypt)
	_, err = b.st.GetDataKey(ctx, "gamma")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestOpenTamperedFails(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	createTenants(t, b.st, "t1")
	sealed, err := b.vault.Seal(ctx, "t1", []byte("access-token-value"))
	require.NoError(t, err)

	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	cases := map[string][]byte{
		"version byte":   flip(0),
		"nonce":          flip(3),
		"ciphertext":     flip(1 + 12 + 2),
		"tag":            flip(len(sealed) - 1),
		"truncated":      sealed[:len(sealed)-1],
		"only header":    sealed[:13],
		"empty":          {},
		"appended bytes": append(bytes.Clone(sealed), 0),
	}
	for name, c := range cases {
		_, err := b.vault.Open(ctx, "t1", c)
		require.ErrorIs(t, err, credential.ErrDecrypt, name)
		require.NotContains(t, err.Error(), "access-token-value", name)
	}
}

func TestRotateMaster(t *testing.T) {
	t.Parallel()
	forEachStore(t, testRotateMaster)
}

func testRotateMaster(t *testing.T, st store.Store) {
	b := setupWith(t, st, &credential.Config{RotatePageSize: 2})
	ctx := context.Background()

	tenants := []string{"t1", "t2", "t3", "t4", "t5"}
	createTenants(t, b.st, tenants...)
	sealed := map[string][]byte{}
	for _, id := range tenants {
		s, err := b.vault.SealSecret(ctx, id, credential.Secret{AccessToken: "at-" + id, RefreshToken: "rt-" + id})
		require.NoError(t, err)
		sealed[id] = s
	}

	newKey := newMasterKey(t)
	// Other processes run with the new key added as retired while the
	// rotation runs; readers built this way must keep working throughout.
	during, err := credential.NewLocalKMS(b.key, newKey)
	require.NoError(t, err)
	next, err := credential.NewLocalKMS(newKey)
	require.NoError(t, err)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	readErrs := make(chan error, 1000)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// A fresh vault has no cache: it reads whichever wrapping is
			// stored at this instant.
			rv, err := credential.NewVault(b.st, during, nil)
			if err != nil {
				readErrs <- err
				return
			}
			for _, id := range tenants {
				if s, err := rv.OpenSecret(ctx, id, sealed[id]); err != nil || s.AccessToken != "at-"+id {
					readErrs <- fmt.Errorf("tenant %s during rotation: %v", id, err)
				}
			}
		}
	}()

	n, err := b.vault.RotateMaster(ctx, next)
	close(stop)
	wg.Wait()
	close(readErrs)
	require.NoError(t, err)
	require.Equal(t, len(tenants), n)
	for e := range readErrs {
		require.NoError(t, e)
	}

	for _, id := range tenants {
		k, err := b.st.GetDataKey(ctx, id)
		require.NoError(t, err)
		require.Equal(t, next.CurrentKeyID(), k.MasterKeyID, id)
	}

	// After rotation, a process holding only the new master key reads data
	// written before it; one holding only the old key no longer can.
	after, err := credential.NewVault(b.st, next, nil)
	require.NoError(t, err)
	oldOnly, err := credential.NewVault(b.st, b.kms, nil)
	require.NoError(t, err)
	for _, id := range tenants {
		s, err := after.OpenSecret(ctx, id, sealed[id])
		require.NoError(t, err)
		require.Equal(t, "at-"+id, s.AccessToken)
		require.Equal(t, "rt-"+id, s.RefreshToken)

		_, err = oldOnly.OpenSecret(ctx, id, sealed[id])
		require.ErrorIs(t, err, credential.ErrUnknownKey)
	}

	// The rotating vault keeps sealing (new tenants get keys wrapped by
	// the new master key) and a rerun has nothing left to do.
	createTenants(t, b.st, "t6")
	s6, err := b.vault.Seal(ctx, "t6", []byte("new"))
	require.NoError(t, err)
	got, err := after.Open(ctx, "t6", s6)
	require.NoError(t, err)
	require.Equal(t, "new", string(got))
	n, err = b.vault.RotateMaster(ctx, next)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestConcurrentSealCreatesOneDataKey(t *testing.T) {
	t.Parallel()
	forEachStore(t, testConcurrentSealCreatesOneDataKey)
}

func testConcurrentSealCreatesOneDataKey(t *testing.T, st store.Store) {
	b := setupWith(t, st, nil)
	ctx := context.Background()
	createTenants(t, b.st, "fresh")

	// Several vaults over one store stand in for several processes; within
	// each, many goroutines race on the first Seal.
	vaults := []*credential.Vault{b.vault}
	for range 3 {
		v, err := credential.NewVault(b.st, b.kms, nil)
		require.NoError(t, err)
		vaults = append(vaults, v)
	}
	const n = 40
	sealed := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			sealed[i], errs[i] = vaults[i%len(vaults)].Seal(ctx, "fresh", fmt.Appendf(nil, "value-%d", i))
		}()
	}
	close(start)
	wg.Wait()

	// Every value opens with the one stored key: no racer's key was lost.
	reader, err := credential.NewVault(b.st, b.kms, nil)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, errs[i])
		got, err := reader.Open(ctx, "fresh", sealed[i])
		require.NoError(t, err, "value %d", i)
		require.Equal(t, fmt.Sprintf("value-%d", i), string(got))
	}
	keys, err := b.st.ListDataKeys(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, keys, 1)
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, &credential.Config{CacheSize: 2})
	ctx := context.Background()
	tenants := []string{"a", "b", "c", "d"}
	createTenants(t, b.st, tenants...)
	sealed := map[string][]byte{}
	for _, id := range tenants {
		s, err := b.vault.Seal(ctx, id, []byte(id))
		require.NoError(t, err)
		sealed[id] = s
	}
	require.LessOrEqual(t, credential.CacheLen(b.vault), 2)
	// Evicted keys are reloaded from the store.
	for _, id := range tenants {
		got, err := b.vault.Open(ctx, id, sealed[id])
		require.NoError(t, err)
		require.Equal(t, id, string(got))
	}
}

func TestLocalKMS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k1, k2 := newMasterKey(t), newMasterKey(t)

	kms, err := credential.NewLocalKMS(k1, k2)
	require.NoError(t, err)
	only2, err := credential.NewLocalKMS(k2)
	require.NoError(t, err)
	require.NotEqual(t, kms.CurrentKeyID(), only2.CurrentKeyID())

	dk := bytes.Repeat([]byte{7}, 32)
	w, id, err := kms.Wrap(ctx, dk)
	require.NoError(t, err)
	require.Equal(t, kms.CurrentKeyID(), id)
	got, err := kms.Unwrap(ctx, w, id)
	require.NoError(t, err)
	require.Equal(t, dk, got)

	_, err = only2.Unwrap(ctx, w, id)
	require.ErrorIs(t, err, credential.ErrUnknownKey)

	// Relabelling a wrapped key with another id held by the KMS fails.
	_, err = kms.Unwrap(ctx, w, only2.CurrentKeyID())
	require.ErrorIs(t, err, credential.ErrDecrypt)

	_, err = credential.NewLocalKMS(credential.MasterKey{Key: []byte("short")})
	require.Error(t, err)
	_, err = credential.NewLocalKMS(k1, k1)
	require.Error(t, err, "duplicate id")
}

func TestMasterKeySources(t *testing.T) {
	// Not parallel: t.Setenv.
	raw := bytes.Repeat([]byte{0x42}, 32)
	enc := base64.StdEncoding.EncodeToString(raw)

	t.Setenv("ACCORD_TEST_MASTER_KEY", enc)
	k, err := credential.MasterKeyFromEnv("ACCORD_TEST_MASTER_KEY")
	require.NoError(t, err)
	require.Equal(t, raw, k.Key)
	require.NotContains(t, fmt.Sprintf("%v %+v %#v %s", k, k, k, k), enc)

	_, err = credential.MasterKeyFromEnv("ACCORD_TEST_MASTER_KEY_UNSET")
	require.Error(t, err)

	t.Setenv("ACCORD_TEST_MASTER_KEY_BAD", base64.StdEncoding.EncodeToString(raw[:16]))
	_, err = credential.MasterKeyFromEnv("ACCORD_TEST_MASTER_KEY_BAD")
	require.ErrorContains(t, err, "want 32")

	dir := t.TempDir()
	for name, content := range map[string][]byte{"b64": []byte(enc + "\n"), "raw": raw} {
		p := dir + "/" + name
		require.NoError(t, os.WriteFile(p, content, 0o600))
		k, err := credential.MasterKeyFromFile(p)
		require.NoError(t, err, name)
		require.Equal(t, raw, k.Key, name)
	}
	_, err = credential.MasterKeyFromFile(dir + "/missing")
	require.Error(t, err)
}
