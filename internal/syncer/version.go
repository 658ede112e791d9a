package syncer

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

// versionOf reads the object's version field: an int as it is, a timestamp
// as Unix nanoseconds (RFC 3339 text) or as given (a number).
func versionOf(obj *spec.Object, it map[string]any) (int64, bool) {
	if obj.Version == "" {
		return 0, false
	}
	v, ok := spec.Get(it, obj.Version)
	if !ok || v == nil {
		return 0, false
	}
	switch x := v.(type) {
	case json.Number: // the connector decodes numbers exactly
		n, err := x.Int64()
		return n, err == nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<62 {
			return 0, false
		}
		return int64(x), true
	case string:
		if f := obj.Fields[obj.Version]; f != nil && f.Type == spec.TypeTimestamp {
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return 0, false
			}
			return t.UnixNano(), true
		}
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// formatVersion writes a version the way the partner's since parameter
// expects it: RFC 3339 for a timestamp field, the number otherwise.
func formatVersion(obj *spec.Object, v int64) string {
	if f := obj.Fields[obj.Version]; f != nil && f.Type == spec.TypeTimestamp {
		return time.Unix(0, v).UTC().Format(time.RFC3339Nano)
	}
	return strconv.FormatInt(v, 10)
}

// updatedAt reads the object's last change time: RFC 3339 text, or a
// number of Unix seconds.
func updatedAt(obj *spec.Object, it map[string]any) (time.Time, bool) {
	v, ok := spec.Get(it, obj.UpdatedAt)
	if !ok {
		return time.Time{}, false
	}
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return time.Unix(n, 0), err == nil
	case float64:
		return time.Unix(int64(x), 0), true
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}

// scalarString writes an id as text ("" for anything but a string or a
// whole number).
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		if x == math.Trunc(x) {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
