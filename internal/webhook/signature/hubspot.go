package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// hubspot implements HubSpot's v3 request signature:
// "X-HubSpot-Signature-v3: <base64>" is HMAC-SHA256, keyed with the app's
// client secret, over method + absolute URI + body + the
// X-HubSpot-Request-Timestamp value (milliseconds since the epoch, no
// separators). The URI is the https URL HubSpot called, so the scheme needs
// the Host the request was addressed to.
type hubspot struct {
	header, tsHeader string
	tolerance        time.Duration
}

const hubspotName = "hubspot"

var _ RequestSigner = (*hubspot)(nil)

func init() {
	Register(hubspotName, func(o Options) (Scheme, error) {
		return &hubspot{
			header:    orDefault(o.Header, "X-HubSpot-Signature-v3"),
			tsHeader:  orDefault(o.TimestampHeader, "X-HubSpot-Request-Timestamp"),
			tolerance: o.tolerance(),
		}, nil
	})
}

// hubspotURIDecoder undoes the percent-encodings HubSpot's documentation
// lists for v3: it signs the URI with these characters decoded, whatever the
// client sent on the wire.
var hubspotURIDecoder = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
	"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";",
)

func hubspotURI(r *Request) string {
	return "https://" + r.Host + hubspotURIDecoder.Replace(r.URL)
}

// SignsDelivery: the request timestamp is signed.
func (s *hubspot) SignsDelivery() bool { return true }

func (s *hubspot) Verify(r *Request, secrets [][]byte, now time.Time) error {
	header := strings.TrimSpace(r.Header.Get(s.header))
	if header == "" {
		return verifyError(ErrNoSignature, hubspotName, "no %s header", s.header)
	}
	ts := strings.TrimSpace(r.Header.Get(s.tsHeader))
	if err := checkMillis(ts, now, s.tolerance); err != nil {
		return err
	}
	mac, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return verifyError(ErrBadSignature, hubspotName, "%s is not base64", s.header)
	}
	if len(secrets) == 0 {
		return noSecrets(hubspotName)
	}
	if !anyMatch(sha256.New, secrets, [][]byte{mac}, []byte(r.Method), []byte(hubspotURI(r)), r.Body, []byte(ts)) {
		return verifyError(ErrBadSignature, hubspotName, "signature does not match")
	}
	return nil
}

// checkMillis is checkTimestamp for a millisecond timestamp.
func checkMillis(raw string, now time.Time, tol time.Duration) error {
	if raw == "" {
		return verifyError(ErrTimestamp, hubspotName, "no timestamp")
	}
	ms, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return verifyError(ErrTimestamp, hubspotName, "timestamp is not milliseconds since the epoch")
	}
	// Compare in whole seconds so a hostile value cannot overflow a
	// Duration; a second's rounding is far inside any tolerance.
	return checkTimestamp(hubspotName, strconv.FormatInt(ms/1000, 10), now, tol)
}

// Sign cannot know the method and URL HubSpot signs: use SignRequest.
func (s *hubspot) Sign([]byte, []byte, time.Time, string) (http.Header, error) {
	return nil, errors.New("hubspot: the signature covers the method and URL: use SignRequest")
}

func (s *hubspot) SignRequest(r *Request, secret []byte, now time.Time, _ string) error {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	mac := computeMAC(sha256.New, secret, []byte(r.Method), []byte(hubspotURI(r)), r.Body, []byte(ts))
	r.Header.Set(s.tsHeader, ts)
	r.Header.Set(s.header, base64.StdEncoding.EncodeToString(mac))
	return nil
}
