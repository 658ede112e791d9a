package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestSchemaIDs(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"provider.v1.json", "contract.v1.json", "pack.v1.json"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "schema", file))
		require.NoError(t, err)
		var s struct {
			ID string `json:"$id"`
		}
		require.NoError(t, json.Unmarshal(data, &s))
		require.Equal(t, "https://accord.dev/schema/"+file, s.ID)
	}
}

func TestPackSchemaAcceptsShippedPacks(t *testing.T) {
	t.Parallel()
	raw, err := JSONSchema(PackFormat)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("mem://pack.v1.json", doc))
	s, err := c.Compile("mem://pack.v1.json")
	require.NoError(t, err)
	validate := func(data []byte) error {
		var v any
		require.NoError(t, yaml.Unmarshal(data, &v))
		j, err := json.Marshal(v)
		require.NoError(t, err)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		require.NoError(t, err)
		return s.Validate(inst)
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "packs", "*", "pack.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, validate(data), f)
	}
	require.Error(t, validate([]byte("accord: pack/v1\nname: x\ntitle: X\ncontracts: [a]\nrecomended: []\n")), "an unknown key fails the schema")
}
