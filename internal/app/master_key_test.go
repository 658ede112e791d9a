package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
)

func TestMasterKeyFileIsCreated0600(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "accord.db")
	cfg := config.Defaults()
	cfg.DB = "sqlite:" + db
	_, err := MasterKey(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	fi, err := os.Stat(db + ".key")
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	leftovers, err := filepath.Glob(db + ".key.*")
	require.NoError(t, err)
	require.Empty(t, leftovers, "the temporary file is removed")

	// A key file others can read still works, with a warning saying how
	// to fix it.
	require.NoError(t, os.Chmod(db+".key", 0o644))
	var logs bytes.Buffer
	_, err = MasterKey(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	require.Contains(t, logs.String(), "chmod 600")
}

// A lost key file must not be papered over by a new key: the process
// refuses to start, naming the key id it needs and the file to restore.
func TestLostMasterKeyFileRefusesToStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "accord.db")
	cfg := config.Defaults()
	cfg.DB = "sqlite:" + db
	st, err := sqlite.Open(ctx, db, &sqlite.Config{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	require.NoError(t, st.CreateTenant(ctx, store.Tenant{ID: "ten_a", Name: "A"}))

	vault := func() (*credential.Vault, *credential.LocalKMS) {
		mk, retired, err := MasterKeys(cfg, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		kms, err := credential.NewLocalKMS(mk, retired...)
		require.NoError(t, err)
		v, err := credential.NewVault(st, kms, nil)
		require.NoError(t, err)
		return v, kms
	}
	v, kms := vault()
	require.NoError(t, CheckMasterKeys(ctx, cfg, v), "an empty database starts with a new key")
	_, err = v.Seal(ctx, "ten_a", []byte("token"))
	require.NoError(t, err)
	original := kms.CurrentKeyID()

	require.NoError(t, os.Remove(db+".key"))
	v, _ = vault()
	err = CheckMasterKeys(ctx, cfg, v)
	require.Error(t, err)
	require.ErrorAs(t, err, new(*credential.MissingMasterKeyError))
	require.Contains(t, err.Error(), `master key "`+original+`"`)
	require.Contains(t, err.Error(), db+".key")
	require.Contains(t, err.Error(), "restore the original file")
}
