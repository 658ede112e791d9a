package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// shopify implements "X-Shopify-Hmac-Sha256: <base64>" over the body. Like
// GitHub it signs no timestamp; replays are caught by dedup on
// X-Shopify-Webhook-Id.
type shopify struct{ header string }

const shopifyName = "shopify"

func init() {
	Register(shopifyName, func(o Options) (Scheme, error) {
		return &shopify{header: orDefault(o.Header, "X-Shopify-Hmac-Sha256")}, nil
	})
}

// SignsDelivery: only the body is signed; X-Shopify-Webhook-Id is not.
func (s *shopify) SignsDelivery() bool { return false }

func (s *shopify) Verify(r *Request, secrets [][]byte, _ time.Time) error {
	header := strings.TrimSpace(r.Header.Get(s.header))
	if header == "" {
		return verifyError(ErrNoSignature, shopifyName, "no %s header", s.header)
	}
	mac, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return verifyError(ErrBadSignature, shopifyName, "%s is not base64", s.header)
	}
	if len(secrets) == 0 {
		return noSecrets(shopifyName)
	}
	if !anyMatch(sha256.New, secrets, [][]byte{mac}, r.Body) {
		return verifyError(ErrBadSignature, shopifyName, "signature does not match")
	}
	return nil
}

func (s *shopify) Sign(body, secret []byte, _ time.Time, id string) (http.Header, error) {
	h := http.Header{}
	h.Set(s.header, base64.StdEncoding.EncodeToString(computeMAC(sha256.New, secret, body)))
	if id != "" {
		h.Set("X-Shopify-Webhook-Id", id)
	}
	return h, nil
}
