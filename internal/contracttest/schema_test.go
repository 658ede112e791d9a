package contracttest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/accordhq/accord/internal/contracttest"
)

// The published schema, which editors check test files with, takes every
// shipped test file and refuses what the parser refuses.
func TestSchemaAcceptsShippedTestFiles(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../schema/test.v1.json")
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("https://accord.dev/schema/test.v1.json", doc))
	s, err := c.Compile("https://accord.dev/schema/test.v1.json")
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
	files, err := contracttest.FindSuites("../../packs", "../../docs/examples")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		require.NoError(t, validate(data), file)
	}
	for _, bad := range []string{
		suiteHead + "  - {name: a, event: x.json, expcet: {outcome: applied}}\n",
		suiteHead + "  - {name: a, event: x.json, expect: {outcome: done}}\n",
		suiteHead + "  - {name: a, steps: [{event: x.json}]}\n",
		suiteHead + "  - {name: a, partner: {fail: [{on: hubspot.company, class: permission}]}, event: x.json, expect: {outcome: retry}}\n",
	} {
		require.Error(t, validate([]byte(bad)), bad)
	}
}
