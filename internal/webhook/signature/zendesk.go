package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// zendesk implements Zendesk's webhook signature:
// "X-Zendesk-Webhook-Signature: <base64>", HMAC-SHA256 keyed with the
// webhook's signing secret over the X-Zendesk-Webhook-Signature-Timestamp
// value (ISO 8601, e.g. 2021-07-25T10:00:00Z) followed by the body. The
// secret is used as the text Zendesk shows, not base64-decoded.
type zendesk struct {
	header, tsHeader string
	tolerance        time.Duration
}

const zendeskName = "zendesk"

func init() {
	Register(zendeskName, func(o Options) (Scheme, error) {
		return &zendesk{
			header:    orDefault(o.Header, "X-Zendesk-Webhook-Signature"),
			tsHeader:  orDefault(o.TimestampHeader, "X-Zendesk-Webhook-Signature-Timestamp"),
			tolerance: o.tolerance(),
		}, nil
	})
}

// SignsDelivery: the timestamp is signed.
func (s *zendesk) SignsDelivery() bool { return true }

func (s *zendesk) Verify(r *Request, secrets [][]byte, now time.Time) error {
	header := strings.TrimSpace(r.Header.Get(s.header))
	if header == "" {
		return verifyError(ErrNoSignature, zendeskName, "no %s header", s.header)
	}
	// The raw header value is what Zendesk signed; only its meaning is
	// parsed, for the replay window.
	ts := r.Header.Get(s.tsHeader)
	at, err := time.Parse(time.RFC3339, strings.TrimSpace(ts))
	if err != nil {
		return verifyError(ErrTimestamp, zendeskName, "%s is not an ISO 8601 time", s.tsHeader)
	}
	if err := checkTimestamp(zendeskName, strconv.FormatInt(at.Unix(), 10), now, s.tolerance); err != nil {
		return err
	}
	mac, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return verifyError(ErrBadSignature, zendeskName, "%s is not base64", s.header)
	}
	if len(secrets) == 0 {
		return noSecrets(zendeskName)
	}
	if !anyMatch(sha256.New, secrets, [][]byte{mac}, []byte(ts), r.Body) {
		return verifyError(ErrBadSignature, zendeskName, "signature does not match")
	}
	return nil
}

func (s *zendesk) Sign(body, secret []byte, now time.Time, _ string) (http.Header, error) {
	ts := now.UTC().Format(time.RFC3339)
	h := http.Header{}
	h.Set(s.tsHeader, ts)
	h.Set(s.header, base64.StdEncoding.EncodeToString(computeMAC(sha256.New, secret, []byte(ts), body)))
	return h, nil
}
