package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrConvert is matched by every conversion failure.
var ErrConvert = errors.New("cannot convert")

// ConvertError says which value could not become which type.
type ConvertError struct {
	Value any
	Type  string
}

func (e *ConvertError) Error() string {
	v := e.Value
	if s, ok := v.(string); ok {
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return fmt.Sprintf("cannot convert %q to %s", s, e.Type)
	}
	return fmt.Sprintf("cannot convert %v (%s) to %s", v, jsonKind(v), e.Type)
}

func (e *ConvertError) Is(target error) bool { return target == ErrConvert }

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "bool"
	case float64, float32, int, int64, json.Number:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "list"
	case time.Time:
		return "timestamp"
	}
	return fmt.Sprintf("%T", v)
}

// ConvertValue coerces a JSON-shaped value to a field type, returning a
// JSON-shaped result: int → int64, float → float64, timestamp → RFC 3339
// string in UTC. Lossy conversions (2.5 → int) fail.
func ConvertValue(fieldType string, v any) (any, error) {
	fail := func() (any, error) { return nil, &ConvertError{Value: v, Type: fieldType} }
	switch fieldType {
	case "", TypeObject:
		if fieldType == TypeObject {
			if _, ok := v.(map[string]any); !ok {
				return fail()
			}
		}
		return v, nil
	case TypeList:
		if _, ok := v.([]any); !ok {
			return fail()
		}
		return v, nil
	case TypeString:
		switch t := v.(type) {
		case string:
			return t, nil
		case bool:
			return strconv.FormatBool(t), nil
		case int64:
			return strconv.FormatInt(t, 10), nil
		case int:
			return strconv.Itoa(t), nil
		case float64:
			return strconv.FormatFloat(t, 'f', -1, 64), nil
		case json.Number:
			return t.String(), nil
		case time.Time:
			return t.UTC().Format(time.RFC3339Nano), nil
		}
	case TypeInt:
		switch t := v.(type) {
		case int64:
			return t, nil
		case int:
			return int64(t), nil
		case float64:
			if t == math.Trunc(t) && math.Abs(t) <= 1<<53 {
				return int64(t), nil
			}
		case json.Number:
			if i, err := t.Int64(); err == nil {
				return i, nil
			}
		case string:
			if i, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64); err == nil {
				return i, nil
			}
		}
	case TypeFloat:
		switch t := v.(type) {
		case float64:
			return t, nil
		case int64:
			return float64(t), nil
		case int:
			return float64(t), nil
		case json.Number:
			if f, err := t.Float64(); err == nil {
				return f, nil
			}
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(t), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f, nil
			}
		}
	case TypeBool:
		switch t := v.(type) {
		case bool:
			return t, nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(t)); err == nil {
				return b, nil
			}
		}
	case TypeTimestamp:
		switch t := v.(type) {
		case time.Time:
			return t.UTC().Format(time.RFC3339Nano), nil
		case string:
			if ts, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t)); err == nil {
				return ts.UTC().Format(time.RFC3339Nano), nil
			}
		case int64:
			return time.Unix(t, 0).UTC().Format(time.RFC3339Nano), nil
		case float64:
			if t == math.Trunc(t) && math.Abs(t) < 1<<40 {
				return time.Unix(int64(t), 0).UTC().Format(time.RFC3339Nano), nil
			}
		}
	}
	return fail()
}
