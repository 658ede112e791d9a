package signature

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// slack implements Slack's v0 scheme: "X-Slack-Signature: v0=<hex>" over
// "v0:{X-Slack-Request-Timestamp}:{body}" with HMAC-SHA256.
type slack struct {
	header, tsHeader string
	tolerance        time.Duration
}

const slackName = "slack"

func init() {
	Register(slackName, func(o Options) (Scheme, error) {
		return &slack{
			header:    orDefault(o.Header, "X-Slack-Signature"),
			tsHeader:  orDefault(o.TimestampHeader, "X-Slack-Request-Timestamp"),
			tolerance: o.tolerance(),
		}, nil
	})
}

// SignsDelivery: the request timestamp is signed.
func (s *slack) SignsDelivery() bool { return true }

func (s *slack) Verify(r *Request, secrets [][]byte, now time.Time) error {
	header := strings.TrimSpace(r.Header.Get(s.header))
	if header == "" {
		return verifyError(ErrNoSignature, slackName, "no %s header", s.header)
	}
	ts := r.Header.Get(s.tsHeader)
	if err := checkTimestamp(slackName, ts, now, s.tolerance); err != nil {
		return err
	}
	mac, err := parseSlackHeader(header)
	if err != nil {
		return verifyError(ErrBadSignature, slackName, "%s is not v0=<hex>", s.header)
	}
	if len(secrets) == 0 {
		return noSecrets(slackName)
	}
	if !anyMatch(sha256.New, secrets, [][]byte{mac}, []byte("v0:"), []byte(ts), []byte(":"), r.Body) {
		return verifyError(ErrBadSignature, slackName, "signature does not match")
	}
	return nil
}

func parseSlackHeader(h string) ([]byte, error) {
	hexMAC, ok := strings.CutPrefix(h, "v0=")
	if !ok {
		return nil, ErrBadSignature
	}
	return hex.DecodeString(hexMAC)
}

func (s *slack) Sign(body, secret []byte, now time.Time, _ string) (http.Header, error) {
	ts := unixString(now)
	mac := computeMAC(sha256.New, secret, []byte("v0:"), []byte(ts), []byte(":"), body)
	h := http.Header{}
	h.Set(s.tsHeader, ts)
	h.Set(s.header, "v0="+hex.EncodeToString(mac))
	return h, nil
}
