package row

import (
	"encoding/json"
	"fmt"
)

// Settings encodes a connection's settings for its TEXT column; none is "{}".
func Settings(s map[string]string) (string, error) {
	if len(s) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(s)
	return string(b), err
}

// DecodeSettings reads the column back; no settings read back as nil, as
// a connection created without them was.
func DecodeSettings(raw string) (map[string]string, error) {
	var s map[string]string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return nil, fmt.Errorf("decoding connection settings: %w", err)
	}
	if len(s) == 0 {
		return nil, nil
	}
	return s, nil
}
