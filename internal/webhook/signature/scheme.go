package signature

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinel errors; Verify wraps exactly one of them with a detail.
var (
	// ErrNoSignature means the request carries no signature header (or an
	// empty one): the sender did not sign it at all.
	ErrNoSignature = errors.New("signature: missing signature")
	// ErrBadSignature means a signature is present but malformed or matches
	// none of the secrets: a forged or tampered request, or a wrong secret.
	ErrBadSignature = errors.New("signature: signature mismatch")
	// ErrTimestamp means the signed timestamp is missing, malformed, too old
	// or too far in the future: a replayed request or a badly skewed clock.
	ErrTimestamp = errors.New("signature: timestamp outside tolerance")
	// ErrBadSecret means a configured secret cannot be used (for example a
	// whsec_ secret that is not valid base64). It is a configuration error on
	// our side, not the sender's.
	ErrBadSecret = errors.New("signature: unusable secret")
	// ErrUnknownScheme is returned by New for a name nobody registered.
	ErrUnknownScheme = errors.New("signature: unknown scheme")
)

// DefaultTolerance is how far a signed timestamp may be from now, in either
// direction, when Options.Tolerance is zero.
const DefaultTolerance = 5 * time.Minute

// Request is what a scheme needs from an incoming webhook: the headers and the
// raw body exactly as received (a re-encoded body would not verify). Method
// and URL are only read by the schemes that sign them (hmac with {method} or
// {url}, hubspot); Host only by hubspot, which signs the absolute URL.
type Request struct {
	Method string
	URL    string
	// Host is the host the sender addressed (the Host header): a proxy in
	// front of Accord must pass it on unchanged for hubspot to verify.
	Host   string
	Header http.Header
	Body   []byte
}

// FromHTTP builds a Request from an incoming request and its already-read
// body. The URL is the request URI as the sender addressed it.
func FromHTTP(r *http.Request, body []byte) *Request {
	return &Request{Method: r.Method, URL: r.URL.RequestURI(), Host: r.Host, Header: r.Header, Body: body}
}

// Scheme verifies and produces one partner's webhook signatures. A Scheme is
// safe for concurrent use.
type Scheme interface {
	// Verify checks r against the secrets (any secret matching any signature
	// passes) at time now. It returns nil or an error wrapping one of
	// ErrNoSignature, ErrBadSignature, ErrTimestamp or ErrBadSecret. It never
	// modifies r.
	Verify(r *Request, secrets [][]byte, now time.Time) error
	// Sign returns the headers a sender would add to a request carrying body,
	// signed with secret at time now. id is the delivery id for schemes that
	// sign or send one, and is ignored by the others. Simulators and tests use
	// it; the ingress never does.
	Sign(body []byte, secret []byte, now time.Time, id string) (http.Header, error)
}

// Options configures a scheme. Provider schemes (stripe, github…) have fixed
// formats and read only Tolerance and, where noted, header overrides; the
// generic hmac scheme is driven entirely by Options.
type Options struct {
	// Header holds the signature. Default: the scheme's own header; for hmac
	// "X-Signature".
	Header string `json:"header,omitempty" yaml:"header,omitempty"`
	// Prefix precedes each signature in the header, e.g. "sha256=". hmac only.
	Prefix string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
	// Encoding of the MAC: "hex" or "base64". hmac only; default "hex".
	Encoding string `json:"encoding,omitempty" yaml:"encoding,omitempty"`
	// Hash is "sha256", "sha1" or "sha512". hmac only; default "sha256".
	Hash string `json:"hash,omitempty" yaml:"hash,omitempty"`
	// Payload is the signed payload template for hmac, built from the
	// placeholders {body}, {timestamp}, {id}, {method} and {url}; default
	// "{body}". Example: "{timestamp}.{body}".
	Payload string `json:"payload,omitempty" yaml:"payload,omitempty"`
	// TimestampHeader carries the unix-seconds timestamp. Required by hmac
	// when Payload uses {timestamp}; a scheme's own header otherwise.
	TimestampHeader string `json:"timestamp_header,omitempty" yaml:"timestamp_header,omitempty"`
	// IDHeader carries the delivery id. Required by hmac when Payload uses
	// {id}; a scheme's own header otherwise.
	IDHeader string `json:"id_header,omitempty" yaml:"id_header,omitempty"`
	// Tolerance is the largest accepted distance between the signed timestamp
	// and now, in either direction. Default DefaultTolerance.
	Tolerance time.Duration `json:"tolerance,omitempty" yaml:"tolerance,omitempty"`
}

func (o Options) tolerance() time.Duration {
	if o.Tolerance <= 0 {
		return DefaultTolerance
	}
	return o.Tolerance
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// verifyError wraps a sentinel with the scheme name and a detail. The detail
// must never contain a secret or a computed MAC.
func verifyError(sentinel error, scheme, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", scheme, sentinel, fmt.Sprintf(format, args...))
}

// DeliveryBinder is implemented by schemes that can say whether their
// signature covers a timestamp or a delivery id.
type DeliveryBinder interface {
	// SignsDelivery reports whether the signed content includes a timestamp
	// or a delivery id. When it does not, a captured request can be sent
	// again under a fresh delivery-id header and still verify, so the
	// receiver must not trust that header alone to spot a replay.
	SignsDelivery() bool
}

// SignsDelivery reports whether s signs a timestamp or a delivery id; a
// scheme that does not say is assumed not to.
func SignsDelivery(s Scheme) bool {
	b, ok := s.(DeliveryBinder)
	return ok && b.SignsDelivery()
}
