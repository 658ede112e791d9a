package spec

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// JSONSchema returns the published JSON Schema of a format (ProviderFormat
// or ContractFormat or PackFormat), reflected from the same Go types the
// decoder validates against, so editors and `accord contract lint` agree.
func JSONSchema(format string) ([]byte, error) {
	var v any
	var id string
	switch format {
	case ProviderFormat:
		v, id = &Provider{}, "provider.v1.json"
	case ContractFormat:
		v, id = &Contract{}, "contract.v1.json"
	case PackFormat:
		v, id = &Pack{}, "pack.v1.json"
	default:
		return nil, fmt.Errorf("json schema: unknown format %q", format)
	}
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		// Go package paths in $id would leak our layout into editors' caches.
		Anonymous: true,
	}
	s := r.Reflect(v)
	s.ID = jsonschema.ID("https://accord.dev/schema/" + id)
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	return append(out, '\n'), nil
}
