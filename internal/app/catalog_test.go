package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCatalogShipsThePacksInTheBinary(t *testing.T) {
	t.Parallel()
	cat, err := LoadCatalog("")
	require.NoError(t, err)
	for _, p := range []string{"helpdesk", "incidents", "chat", "billing", "crm"} {
		require.Contains(t, cat.Providers, p)
	}
	require.Contains(t, cat.Contracts, "escalation")
	require.Contains(t, cat.Contracts, "billing-to-crm")
}

func TestCatalogPacksDirAddsAndOverrides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A copy of the shipped billing pack at another version replaces it.
	override := filepath.Join(dir, "billing-to-crm")
	require.NoError(t, os.CopyFS(override, os.DirFS(filepath.Join("..", "..", "packs", "billing-to-crm"))))
	file := filepath.Join(override, "contracts", "billing-to-crm.yaml")
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(data), "version: 1.0.0", "version: 1.1.0", 1)), 0o644))

	cat, err := LoadCatalog(dir)
	require.NoError(t, err)
	require.Equal(t, "1.1.0", cat.Contracts["billing-to-crm"].Version, "the directory's pack replaces the shipped one")
	require.NotContains(t, cat.Versions["billing-to-crm"], "1.0.0")
	require.Contains(t, cat.Contracts, "escalation", "the other shipped packs stay")
}

func TestCatalogPacksDirMustExistAndHoldPacks(t *testing.T) {
	t.Parallel()
	_, err := LoadCatalog(filepath.Join(t.TempDir(), "nope"))
	require.ErrorContains(t, err, "does not exist")
	_, err = LoadCatalog(t.TempDir())
	require.ErrorContains(t, err, "holds no pack")
}
