package credential_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/store"
)

func TestCheckMasterKeys(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		b := setupWith(t, st, nil)
		for _, tenant := range []string{"ten_a", "ten_b"} {
			require.NoError(t, st.CreateTenant(ctx, store.Tenant{ID: tenant, Name: tenant}))
			_, err := b.vault.Seal(ctx, tenant, []byte("s3cret"))
			require.NoError(t, err)
		}
		require.NoError(t, b.vault.CheckMasterKeys(ctx))

		// A regenerated key (the lost key file case): refused, naming the id.
		other, err := credential.NewLocalKMS(newMasterKey(t))
		require.NoError(t, err)
		v, err := credential.NewVault(st, other, nil)
		require.NoError(t, err)
		err = v.CheckMasterKeys(ctx)
		var missing *credential.MissingMasterKeyError
		require.ErrorAs(t, err, &missing)
		require.Equal(t, []string{b.kms.CurrentKeyID()}, missing.KeyIDs)
		require.Equal(t, 2, missing.Tenants)
		require.ErrorIs(t, err, credential.ErrUnknownKey)
		require.Contains(t, err.Error(), `master key "`+b.kms.CurrentKeyID()+`"`)
		require.Contains(t, err.Error(), "master_key_file")

		// The old key as a retired key opens them again.
		both, err := credential.NewLocalKMS(newMasterKey(t), b.key)
		require.NoError(t, err)
		v, err = credential.NewVault(st, both, nil)
		require.NoError(t, err)
		require.NoError(t, v.CheckMasterKeys(ctx))

		// The right id with other key bytes is refused too.
		wrong := newMasterKey(t)
		wrong.ID = b.kms.CurrentKeyID()
		liar, err := credential.NewLocalKMS(wrong)
		require.NoError(t, err)
		v, err = credential.NewVault(st, liar, nil)
		require.NoError(t, err)
		err = v.CheckMasterKeys(ctx)
		require.ErrorAs(t, err, &missing)
		require.ErrorIs(t, err, credential.ErrDecrypt)
	})
}

func TestCheckMasterKeysEmptyStore(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.NoError(t, b.vault.CheckMasterKeys(context.Background()))
}
