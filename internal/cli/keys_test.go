package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
)

func TestKeysGenerate(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "keys", "generate")
	require.Equal(t, 0, code, errOut)
	_, err := credential.ParseMasterKey(out)
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "master.key")
	code, _, errOut = run(t, "keys", "generate", "--out", path)
	require.Equal(t, 0, code, errOut)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	_, err = credential.MasterKeyFromFile(path)
	require.NoError(t, err)

	// An existing key file is never overwritten.
	code, _, errOut = run(t, "keys", "generate", "--out", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "exists")
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "accord.db")
	keyA, keyB := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	for _, f := range []string{keyA, keyB} {
		code, _, errOut := run(t, "keys", "generate", "--out", f)
		require.Equal(t, 0, code, errOut)
	}

	// Secrets of two tenants sealed under key A.
	secret := credential.Secret{AccessToken: "access-token-value", RefreshToken: "refresh-token-value"}
	sealed := map[string][]byte{}
	withVault(t, dbPath, func(st store.Store) {
		require.NoError(t, st.Migrate(ctx))
		v := vaultWith(t, st, keyA)
		for _, tenant := range []string{"t1", "t2"} {
			require.NoError(t, st.CreateTenant(ctx, store.Tenant{ID: tenant, Name: tenant}))
			s, err := v.SealSecret(ctx, tenant, secret)
			require.NoError(t, err)
			sealed[tenant] = s
		}
	})

	db := "sqlite:" + dbPath
	code, out, errOut := run(t, "keys", "rotate", "--db", db, "--packs", dir, "--master-key-file", keyA, "--new-key-file", keyB)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "re-wrapped 2 data keys")
	require.Contains(t, out, "master_key_previous_file="+keyA)

	withVault(t, dbPath, func(st store.Store) {
		// Key B alone opens what was sealed before the rotation...
		vb := vaultWith(t, st, keyB)
		for tenant, s := range sealed {
			got, err := vb.OpenSecret(ctx, tenant, s)
			require.NoError(t, err, tenant)
			require.Equal(t, secret.AccessToken, got.AccessToken)
		}
		// ...and key A alone no longer does.
		_, err := vaultWith(t, st, keyA).OpenSecret(ctx, "t1", sealed["t1"])
		require.ErrorIs(t, err, credential.ErrUnknownKey)
	})

	// Running it again finds nothing left to re-wrap; rotating to the
	// current key is refused.
	code, out, errOut = run(t, "keys", "rotate", "--db", db, "--packs", dir, "--master-key-file", keyA, "--new-key-file", keyB)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "re-wrapped 0 data keys")
	code, _, errOut = run(t, "keys", "rotate", "--db", db, "--packs", dir, "--master-key-file", keyB, "--new-key-file", keyB)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "the new key is the current master key")
	require.False(t, strings.Contains(out+errOut, "access-token-value"))

	code, _, errOut = run(t, "keys", "rotate", "--db", db)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--new-key-file is required")
}

func withVault(t *testing.T, path string, fn func(st store.Store)) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, nil)
	require.NoError(t, err)
	defer st.Close()
	fn(st)
}

func vaultWith(t *testing.T, st store.Store, keyFile string) *credential.Vault {
	t.Helper()
	k, err := credential.MasterKeyFromFile(keyFile)
	require.NoError(t, err)
	kms, err := credential.NewLocalKMS(k)
	require.NoError(t, err)
	v, err := credential.NewVault(st, kms, nil)
	require.NoError(t, err)
	return v
}
