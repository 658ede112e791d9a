package catalogcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// LoadDocument reads a vendor's API description from a file: OpenAPI 3.x
// or Swagger 2.0, JSON or YAML.
func LoadDocument(path string) (*openapi3.T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading openapi document: %w", err)
	}
	doc, err := ParseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

// ParseDocument decodes an OpenAPI 3.x or Swagger 2.0 document. External
// references are not followed: a vendor document is read, never fetched
// from. The document is not validated: vendors' documents often break
// rules the check does not depend on.
func ParseDocument(data []byte) (*openapi3.T, error) {
	var head struct {
		Swagger string `json:"swagger" yaml:"swagger"`
		OpenAPI string `json:"openapi" yaml:"openapi"`
	}
	jsonDoc := bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	if jsonDoc {
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("reading openapi document: %w", err)
		}
	} else if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("reading openapi document: %w", err)
	}
	switch {
	case head.OpenAPI != "":
		doc, err := openapi3.NewLoader().LoadFromData(data)
		if err == nil {
			return doc, nil
		}
		// Some vendors point $refs into the middle of other components
		// (PagerDuty: a request body's schema inside a response), which
		// the loader refuses; inline those and try once more.
		var v any
		if jsonDoc {
			err = json.Unmarshal(data, &v)
		} else {
			err = yaml.Unmarshal(data, &v)
		}
		if err == nil {
			var fixed []byte
			if fixed, err = json.Marshal(inlineDeepRefs(v, v, "", 0)); err == nil {
				if doc, err = openapi3.NewLoader().LoadFromData(fixed); err == nil {
					return doc, nil
				}
			}
		}
		return nil, fmt.Errorf("reading openapi %s document: %w", head.OpenAPI, err)
	case head.Swagger != "":
		var v any
		var err error
		if jsonDoc {
			err = json.Unmarshal(data, &v)
		} else {
			err = yaml.Unmarshal(data, &v)
		}
		if err != nil {
			return nil, fmt.Errorf("reading swagger document: %w", err)
		}
		if data, err = json.Marshal(untuple(v)); err != nil {
			return nil, fmt.Errorf("reading swagger document: %w", err)
		}
		var doc2 openapi2.T
		if err := json.Unmarshal(data, &doc2); err != nil {
			return nil, fmt.Errorf("reading swagger %s document: %w", head.Swagger, err)
		}
		doc, err := openapi2conv.ToV3(&doc2)
		if err != nil {
			return nil, fmt.Errorf("converting swagger %s document: %w", head.Swagger, err)
		}
		return doc, nil
	}
	return nil, fmt.Errorf("not an openapi document: no `openapi` or `swagger` key")
}

// untuple replaces tuple-style `items: [a, b]`, which Swagger 2.0 does not
// allow but Slack's document uses, with its first schema, so the document
// decodes; the check only needs an element's properties.
func untuple(v any) any {
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			if list, ok := c.([]any); ok && k == "items" {
				if len(list) == 0 {
					delete(n, k)
					continue
				}
				c = list[0]
			}
			n[k] = untuple(c)
		}
	case []any:
		for i, c := range n {
			n[i] = untuple(c)
		}
	}
	return v
}

// inlineDeepRefs replaces each local $ref that points into the middle of
// a component (#/components/responses/X/content/…), or at a component of
// another kind than its place wants (a response that refs a request
// body), with the value it points at. want is the ref prefix v's place
// expects, or "".
func inlineDeepRefs(root, v any, want string, depth int) any {
	if depth > 64 {
		return v
	}
	switch n := v.(type) {
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok && strings.HasPrefix(ref, "#/") &&
			(strings.Count(ref, "/") > 3 || (want != "" && !strings.HasPrefix(ref, want))) {
			if target, ok := pointer(root, ref[2:]); ok {
				return inlineDeepRefs(root, target, want, depth+1)
			}
		}
		for k, c := range n {
			n[k] = inlineDeepRefs(root, c, childWant(want, k, c), depth+1)
		}
	case []any:
		for i, c := range n {
			n[i] = inlineDeepRefs(root, c, "", depth+1)
		}
	}
	return v
}

// childWant is the ref prefix expected of the values below key: the
// entries of a responses map are responses, a requestBody is a request
// body.
func childWant(parentWant, key string, child any) string {
	switch {
	case parentWant == "#/components/responses/map":
		return "#/components/responses/"
	case parentWant == "#/components/requestBodies/map":
		return "#/components/requestBodies/"
	case key == "responses":
		return "#/components/responses/map"
	case key == "requestBodies":
		return "#/components/requestBodies/map"
	case key == "requestBody":
		return "#/components/requestBodies/"
	}
	return ""
}

// pointer resolves a JSON pointer (without its leading "#/") in v.
func pointer(v any, ptr string) (any, bool) {
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := v.(type) {
		case map[string]any:
			c, ok := n[tok]
			if !ok {
				return nil, false
			}
			v = c
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, false
			}
			v = n[i]
		default:
			return nil, false
		}
	}
	return v, true
}
