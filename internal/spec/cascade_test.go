package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// copyPack copies the shipped billing-to-crm pack into a temporary
// directory and applies edits (file → old → new).
func copyPack(t *testing.T, edits map[string][2]string) string {
	t.Helper()
	src := filepath.Join("..", "..", "packs", "billing-to-crm")
	dst := t.TempDir()
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	for file, e := range edits {
		path := filepath.Join(dst, file)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Contains(t, string(data), e[0])
		require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), e[0], e[1], 1)), 0o644))
	}
	return dst
}

func TestLintReportsTheRootCauseAlone(t *testing.T) {
	t.Parallel()
	dir := copyPack(t, map[string][2]string{"providers/crm.yaml": {"requests_per_second: 20", "requests_per_second: twenty"}})
	diags := Lint(dir)
	require.Len(t, diags, 1, "no unknown provider crm ×3 and no false pack error after it:\n%s", diags.Error())
	require.Equal(t, filepath.Join(dir, "providers", "crm.yaml")+":5:35: expected a number, got \"twenty\"", diags[0].String())
}

func TestLintPutsProvidersFirst(t *testing.T) {
	t.Parallel()
	dir := copyPack(t, map[string][2]string{
		"providers/billing.yaml":        {"customer.updated: {object: customer}", "customer.updated: {object: custmer}"},
		"contracts/billing-to-crm.yaml": {"direction: one_way", "direction: one_way\nlatency: soon"},
	})
	diags := Lint(dir)
	require.NotEmpty(t, diags)
	require.Contains(t, diags[0].File, "providers", "root causes first:\n%s", diags.Error())
	require.Contains(t, diags[len(diags)-1].File, "contracts")
}

func TestLintWarnsAboutUnusedEventsAndObjects(t *testing.T) {
	t.Parallel()
	dir := copyPack(t, map[string][2]string{"providers/billing.yaml": {"    customer.updated: {object: customer}\n",
		"    customer.updated: {object: customer}\n    invoice.paid: {object: invoice}\n"}})
	invoice := "  invoice: {fields: {id: {type: string}}}\n"
	path := filepath.Join(dir, "providers", "billing.yaml")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "objects:\n", "objects:\n"+invoice, 1)), 0o644))

	diags := Lint(dir)
	require.Equal(t, 2, diags.Warnings(), diags.Error())
	require.Len(t, diags, 2)
	require.Contains(t, diags.Error(), "warning: event invoice.paid is declared but no trigger listens to it")
	require.Contains(t, diags.Error(), "warning: object invoice is declared but no contract reads or writes it")
}

func TestLintDescendsIntoADirectoryOfPacks(t *testing.T) {
	t.Parallel()
	pack := copyPack(t, map[string][2]string{"providers/crm.yaml": {"requests_per_second: 20", "requests_per_second: twenty"}})
	diags := Lint(filepath.Dir(pack))
	require.Len(t, diags, 1, diags.Error())
	require.Contains(t, diags[0].Message, "expected a number")
	require.Empty(t, Lint(filepath.Join("..", "..", "packs")), "the shipped packs lint clean")
}

func TestLintOfOneContractShowsItsBrokenProviderFirst(t *testing.T) {
	t.Parallel()
	dir := copyPack(t, map[string][2]string{"providers/crm.yaml": {"requests_per_second: 20", "requests_per_second: twenty"}})
	diags := Lint(filepath.Join(dir, "contracts", "billing-to-crm.yaml"))
	require.Len(t, diags, 1, diags.Error())
	require.Equal(t, filepath.Join(dir, "providers", "crm.yaml"), diags[0].File, "the cause, not unknown provider crm")
}
