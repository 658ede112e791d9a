package signature

import (
	"crypto/sha1" //nolint:gosec // Intercom signs with HMAC-SHA1; HMAC does not rest on SHA-1's collision resistance
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// intercom implements Intercom's "X-Hub-Signature: sha1=<hex>", HMAC-SHA1
// of the body keyed with the app's client secret. Intercom signs no
// timestamp, so replays are caught by dedup on the notification id.
type intercom struct{ header string }

const intercomName = "intercom"

func init() {
	Register(intercomName, func(o Options) (Scheme, error) {
		return &intercom{header: orDefault(o.Header, "X-Hub-Signature")}, nil
	})
}

// SignsDelivery: only the body is signed.
func (s *intercom) SignsDelivery() bool { return false }

func (s *intercom) Verify(r *Request, secrets [][]byte, _ time.Time) error {
	header := strings.TrimSpace(r.Header.Get(s.header))
	if header == "" {
		return verifyError(ErrNoSignature, intercomName, "no %s header", s.header)
	}
	hexMAC, ok := strings.CutPrefix(header, "sha1=")
	mac, err := hex.DecodeString(hexMAC)
	if !ok || err != nil {
		return verifyError(ErrBadSignature, intercomName, "%s is not sha1=<hex>", s.header)
	}
	if len(secrets) == 0 {
		return noSecrets(intercomName)
	}
	if !anyMatch(sha1.New, secrets, [][]byte{mac}, r.Body) {
		return verifyError(ErrBadSignature, intercomName, "signature does not match")
	}
	return nil
}

func (s *intercom) Sign(body, secret []byte, _ time.Time, _ string) (http.Header, error) {
	h := http.Header{}
	h.Set(s.header, "sha1="+hex.EncodeToString(computeMAC(sha1.New, secret, body)))
	return h, nil
}
