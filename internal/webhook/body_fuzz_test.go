package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzReadBody: whatever arrives, in whatever pieces, the reader returns
// it byte for byte or refuses it, and never holds more of the budget than
// the buffer it grew to (and never more than limit+1 or the budget).
func FuzzReadBody(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1"}`), uint16(64), uint32(1<<16), false)
	f.Add(bytes.Repeat([]byte("x"), 10_000), uint16(9_999), uint32(1<<20), true)
	f.Add([]byte{}, uint16(0), uint32(4096), false)
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, budget uint32, oneByte bool) {
		b := &byteBudget{limit: int64(budget)}
		var r io.Reader = bytes.NewReader(data)
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		body, reserved, err := readBody(r, int64(limit), b)
		require.Equal(t, reserved, b.used.Load())
		require.LessOrEqual(t, b.peak.Load(), int64(budget))
		require.LessOrEqual(t, reserved, max(int64(limit)+1, firstChunk))
		var tooLarge *http.MaxBytesError
		switch {
		case err == nil:
			require.Equal(t, data, body[:len(data):len(data)])
			require.Len(t, body, len(data))
			require.LessOrEqual(t, len(data), int(limit))
		case errors.As(err, &tooLarge):
			require.Greater(t, len(data), int(limit))
		default:
			require.ErrorIs(t, err, errOverBudget)
		}
		b.release(reserved)
		require.Zero(t, b.used.Load())
	})
}

// FuzzCleanJSON: what cleanJSON returns is valid UTF-8 without \u0000 or
// lone surrogates, and is valid JSON exactly when the input (with invalid
// UTF-8 replaced) was.
func FuzzCleanJSON(f *testing.F) {
	for _, s := range []string{`{"a":"\u0000"}`, "{\"a\":\"\xff\"}", `["\ud800","\udc00","\ud83d\ude00"]`,
		`{"a":1e99999}`, `"\\u0000"`, `[[[[]]]]`, `{"a":"\"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := cleanJSON(in)
		if err != nil {
			var me *MalformedError
			require.ErrorAs(t, err, &me)
			return
		}
		require.True(t, utf8.Valid(out))
		require.Equal(t, json.Valid(bytes.ToValidUTF8(in, []byte(replacement))), json.Valid(out))
		if !json.Valid(out) {
			return
		}
		var doc any
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&doc))
		require.False(t, holdsNUL(doc), "%q", out)
		// Go decodes a lone surrogate to U+FFFD; a surviving one would show
		// as a surrogate escape being kept in out.
		require.True(t, noLoneSurrogate(out), "%q", out)
	})
}

func noLoneSurrogate(b []byte) bool {
	for i := 0; i+6 <= len(b); i++ {
		if b[i] == '\\' && b[i+1] == '\\' {
			i++
			continue
		}
		if n, ok := surrogateFix(b, i); n > 0 {
			if !ok {
				return false
			}
			i += n - 1
		}
	}
	return true
}

func holdsNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return bytes.IndexByte([]byte(v), 0) >= 0
	case []any:
		for _, e := range v {
			if holdsNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if holdsNUL(k) || holdsNUL(e) {
				return true
			}
		}
	}
	return false
}
