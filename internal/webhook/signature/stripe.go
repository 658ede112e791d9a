package signature

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// stripe implements Stripe's scheme: "Stripe-Signature: t=<unix>,v1=<hex>,…"
// over "{t}.{body}" with HMAC-SHA256. During a secret rotation Stripe sends one
// v1 per active secret.
type stripe struct {
	header    string
	tolerance time.Duration
}

const stripeName = "stripe"

func init() {
	Register(stripeName, func(o Options) (Scheme, error) {
		return &stripe{header: orDefault(o.Header, "Stripe-Signature"), tolerance: o.tolerance()}, nil
	})
}

// parseStripeHeader splits "t=…,v1=…,v0=…" into the timestamp and the decoded
// v1 MACs. Other keys (v0 is a test-mode signature) are ignored.
func parseStripeHeader(h string) (ts string, macs [][]byte) {
	for _, item := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if mac, err := hex.DecodeString(v); err == nil {
				macs = append(macs, mac)
			}
		}
	}
	return ts, macs
}

// SignsDelivery: the t= timestamp is signed.
func (s *stripe) SignsDelivery() bool { return true }

func (s *stripe) Verify(r *Request, secrets [][]byte, now time.Time) error {
	header := strings.TrimSpace(r.Header.Get(s.header))
	if header == "" {
		return verifyError(ErrNoSignature, stripeName, "no %s header", s.header)
	}
	ts, macs := parseStripeHeader(header)
	if len(macs) == 0 {
		return verifyError(ErrBadSignature, stripeName, "%s has no v1 signature", s.header)
	}
	if err := checkTimestamp(stripeName, ts, now, s.tolerance); err != nil {
		return err
	}
	if len(secrets) == 0 {
		return noSecrets(stripeName)
	}
	if !anyMatch(sha256.New, secrets, macs, []byte(ts), []byte("."), r.Body) {
		return verifyError(ErrBadSignature, stripeName, "no v1 signature matches")
	}
	return nil
}

func (s *stripe) Sign(body, secret []byte, now time.Time, _ string) (http.Header, error) {
	ts := unixString(now)
	mac := computeMAC(sha256.New, secret, []byte(ts), []byte("."), body)
	h := http.Header{}
	h.Set(s.header, "t="+ts+",v1="+hex.EncodeToString(mac))
	return h, nil
}
