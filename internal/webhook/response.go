package webhook

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// readBody reads the whole body, at most limit bytes. A body over the limit
// fails with *http.MaxBytesError before anything is processed, whether the
// sender declared its length or not.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	size := r.ContentLength
	if size < 0 {
		size = 512
	}
	// One allocation of the declared size (and one byte more, to see EOF)
	// instead of io.ReadAll's doubling.
	buf := make([]byte, 0, size+1)
	for {
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

func writeStatus(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	writeStatus(w, code, string(b))
}
