package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// standardWebhooks implements https://www.standardwebhooks.com: the signed
// content is "{id}.{timestamp}.{body}", HMAC-SHA256, sent as space-separated
// "v1,<base64>" entries so a sender can sign with old and new secrets at once.
type standardWebhooks struct {
	idHeader, tsHeader, sigHeader string
	tolerance                     time.Duration
}

const standardWebhooksName = "standard-webhooks"

// whsecPrefix marks a secret given in the spec's textual form, whose
// remainder is the base64 of the key bytes.
const whsecPrefix = "whsec_"

func init() {
	Register(standardWebhooksName, func(o Options) (Scheme, error) {
		return &standardWebhooks{
			idHeader:  orDefault(o.IDHeader, "webhook-id"),
			tsHeader:  orDefault(o.TimestampHeader, "webhook-timestamp"),
			sigHeader: orDefault(o.Header, "webhook-signature"),
			tolerance: o.tolerance(),
		}, nil
	})
}

// standardWebhooksKey turns a configured secret into key bytes the way the
// reference library (standard-webhooks/libraries/go, NewWebhook) does: an
// optional "whsec_" prefix is dropped and the rest is base64-decoded, so a
// secret pasted without its prefix is the same key as with it. A secret
// with the prefix that is not base64 is unusable (ErrBadSecret); one
// without the prefix that is not base64 cannot have come from a spec
// sender, and is used as raw bytes so that senders signing with a raw key
// (our simulators, hand-rolled partners) still verify.
func standardWebhooksKey(secret []byte) ([]byte, error) {
	s := string(secret)
	encoded, prefixed := strings.CutPrefix(s, whsecPrefix)
	key, err := base64.StdEncoding.DecodeString(encoded)
	switch {
	case err == nil && len(key) > 0:
		return key, nil
	case prefixed:
		return nil, verifyError(ErrBadSecret, standardWebhooksName, "secret after %s is not base64", whsecPrefix)
	default:
		return secret, nil
	}
}

// SignsDelivery: the id and the timestamp are both signed.
func (s *standardWebhooks) SignsDelivery() bool { return true }

func (s *standardWebhooks) Verify(r *Request, secrets [][]byte, now time.Time) error {
	header := strings.TrimSpace(r.Header.Get(s.sigHeader))
	if header == "" {
		return verifyError(ErrNoSignature, standardWebhooksName, "no %s header", s.sigHeader)
	}
	id := r.Header.Get(s.idHeader)
	if id == "" {
		return verifyError(ErrBadSignature, standardWebhooksName, "no %s header", s.idHeader)
	}
	ts := r.Header.Get(s.tsHeader)
	if err := checkTimestamp(standardWebhooksName, ts, now, s.tolerance); err != nil {
		return err
	}
	candidates := parseStandardWebhooksHeader(header)
	if len(candidates) == 0 {
		return verifyError(ErrBadSignature, standardWebhooksName, "%s has no v1 signature", s.sigHeader)
	}
	if len(secrets) == 0 {
		return noSecrets(standardWebhooksName)
	}
	keys := make([][]byte, 0, len(secrets))
	for _, sec := range secrets {
		k, err := standardWebhooksKey(sec)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	if !anyMatch(sha256.New, keys, candidates, []byte(id), []byte("."), []byte(ts), []byte("."), r.Body) {
		return verifyError(ErrBadSignature, standardWebhooksName, "no v1 signature matches")
	}
	return nil
}

// parseStandardWebhooksHeader returns the decoded MACs of the "v1,<base64>"
// entries; entries of other versions (e.g. the asymmetric v1a) and undecodable
// ones are skipped rather than failing the whole header.
func parseStandardWebhooksHeader(h string) [][]byte {
	var out [][]byte
	for _, entry := range strings.Fields(h) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		mac, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		out = append(out, mac)
	}
	return out
}

func (s *standardWebhooks) Sign(body, secret []byte, now time.Time, id string) (http.Header, error) {
	key, err := standardWebhooksKey(secret)
	if err != nil {
		return nil, err
	}
	ts := unixString(now)
	mac := computeMAC(sha256.New, key, []byte(id), []byte("."), []byte(ts), []byte("."), body)
	h := http.Header{}
	h.Set(s.idHeader, id)
	h.Set(s.tsHeader, ts)
	h.Set(s.sigHeader, "v1,"+base64.StdEncoding.EncodeToString(mac))
	return h, nil
}
