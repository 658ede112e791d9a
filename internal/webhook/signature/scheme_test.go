package signature_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/webhook/signature"
)

// schemeCase describes how one scheme behaves, so the same behavioural
// checks run over every scheme.
type schemeCase struct {
	name      string
	opts      signature.Options
	sigHeader string
	// timestamped schemes reject replays; the others cannot tell.
	timestamped bool
	// multi merges the signature headers of two Sign calls into one header
	// carrying both signatures; nil when the scheme allows only one.
	multi func(a, b string) string
}

func schemeCases() []schemeCase {
	return []schemeCase{
		{
			name: "standard-webhooks", sigHeader: "webhook-signature", timestamped: true,
			multi: func(a, b string) string { return a + " " + b },
		},
		{
			name: "stripe", sigHeader: "Stripe-Signature", timestamped: true,
			multi: func(a, b string) string {
				_, v1, _ := strings.Cut(b, ",")
				return a + "," + v1
			},
		},
		{name: "github", sigHeader: "X-Hub-Signature-256"},
		{name: "slack", sigHeader: "X-Slack-Signature", timestamped: true},
		{name: "shopify", sigHeader: "X-Shopify-Hmac-Sha256"},
		{name: "hubspot", sigHeader: "X-HubSpot-Signature-v3", timestamped: true},
		{name: "intercom", sigHeader: "X-Hub-Signature"},
		{name: "zendesk", sigHeader: "X-Zendesk-Webhook-Signature", timestamped: true},
		{
			name: "hmac", sigHeader: "X-Sig", timestamped: true,
			opts: signature.Options{
				Header: "X-Sig", Prefix: "sha256=", Encoding: "base64",
				Payload: "{timestamp}.{body}", TimestampHeader: "X-Sig-Timestamp",
			},
			multi: func(a, b string) string { return a + ", " + b },
		},
	}
}

var (
	body      = []byte(`{"id":"evt_1","type":"ticket.created","data":{"title":"Printer on fire"}}`)
	oldSecret = []byte("old-secret-0123456789")
	newSecret = []byte("new-secret-9876543210")
	signedAt  = time.Unix(1_700_000_000, 0)
)

func sign(t *testing.T, s signature.Scheme, b, secret []byte, at time.Time) *signature.Request {
	t.Helper()
	r := &signature.Request{Method: http.MethodPost, URL: "/hooks/c1", Host: "accord.example.com", Body: b}
	if rs, ok := s.(signature.RequestSigner); ok {
		// The scheme signs the method and URL too (hubspot).
		require.NoError(t, rs.SignRequest(r, secret, at, "msg_1"))
		return r
	}
	h, err := s.Sign(b, secret, at, "msg_1")
	require.NoError(t, err)
	r.Header = h
	return r
}

func TestSchemes(t *testing.T) {
	t.Parallel()
	for _, tc := range schemeCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := signature.New(tc.name, tc.opts)
			require.NoError(t, err)
			secrets := [][]byte{newSecret}

			t.Run("valid", func(t *testing.T) {
				t.Parallel()
				require.NoError(t, s.Verify(sign(t, s, body, newSecret, signedAt), secrets, signedAt.Add(time.Second)))
			})
			t.Run("tampered body", func(t *testing.T) {
				t.Parallel()
				r := sign(t, s, body, newSecret, signedAt)
				r.Body = []byte(strings.Replace(string(body), "fire", "ice", 1))
				require.ErrorIs(t, s.Verify(r, secrets, signedAt), signature.ErrBadSignature)
			})
			t.Run("wrong secret", func(t *testing.T) {
				t.Parallel()
				r := sign(t, s, body, []byte("attacker-guess"), signedAt)
				require.ErrorIs(t, s.Verify(r, secrets, signedAt), signature.ErrBadSignature)
			})
			t.Run("missing header", func(t *testing.T) {
				t.Parallel()
				r := sign(t, s, body, newSecret, signedAt)
				r.Header.Del(tc.sigHeader)
				require.ErrorIs(t, s.Verify(r, secrets, signedAt), signature.ErrNoSignature)
			})
			t.Run("garbage header", func(t *testing.T) {
				t.Parallel()
				r := sign(t, s, body, newSecret, signedAt)
				r.Header.Set(tc.sigHeader, "not a signature at all")
				require.ErrorIs(t, s.Verify(r, secrets, signedAt), signature.ErrBadSignature)
			})
			t.Run("rotation accepts old and new secret", func(t *testing.T) {
				t.Parallel()
				both := [][]byte{oldSecret, newSecret}
				require.NoError(t, s.Verify(sign(t, s, body, oldSecret, signedAt), both, signedAt))
				require.NoError(t, s.Verify(sign(t, s, body, newSecret, signedAt), both, signedAt))
				// Once the old secret is retired its signatures stop passing.
				require.ErrorIs(t, s.Verify(sign(t, s, body, oldSecret, signedAt), secrets, signedAt), signature.ErrBadSignature)
			})
			t.Run("replay and clock skew", func(t *testing.T) {
				t.Parallel()
				r := sign(t, s, body, newSecret, signedAt)
				within := signedAt.Add(signature.DefaultTolerance)
				replayed := signedAt.Add(signature.DefaultTolerance + time.Minute)
				future := signedAt.Add(-signature.DefaultTolerance - time.Minute)
				require.NoError(t, s.Verify(r, secrets, within))
				if !tc.timestamped {
					// Nothing signed says when: dedup on the delivery id is
					// the only replay defence for these partners.
					require.NoError(t, s.Verify(r, secrets, replayed))
					return
				}
				require.ErrorIs(t, s.Verify(r, secrets, replayed), signature.ErrTimestamp)
				require.ErrorIs(t, s.Verify(r, secrets, future), signature.ErrTimestamp)
			})
			t.Run("multiple signatures", func(t *testing.T) {
				t.Parallel()
				if tc.multi == nil {
					t.Skipf("%s sends a single signature", tc.name)
				}
				a := sign(t, s, body, oldSecret, signedAt)
				b := sign(t, s, body, newSecret, signedAt)
				a.Header.Set(tc.sigHeader, tc.multi(a.Header.Get(tc.sigHeader), b.Header.Get(tc.sigHeader)))
				require.NoError(t, s.Verify(a, [][]byte{newSecret}, signedAt))
				require.NoError(t, s.Verify(a, [][]byte{oldSecret}, signedAt))
				require.ErrorIs(t, s.Verify(a, [][]byte{[]byte("other")}, signedAt), signature.ErrBadSignature)
			})
			t.Run("errors never carry the secret or the expected signature", func(t *testing.T) {
				t.Parallel()
				good := sign(t, s, body, newSecret, signedAt)
				r := sign(t, s, body, newSecret, signedAt)
				r.Body = []byte("tampered")
				err := s.Verify(r, secrets, signedAt)
				require.Error(t, err)
				require.NotContains(t, err.Error(), string(newSecret))
				for _, v := range good.Header.Values(tc.sigHeader) {
					require.NotContains(t, err.Error(), v)
				}
			})
			t.Run("no secrets configured", func(t *testing.T) {
				t.Parallel()
				require.ErrorIs(t, s.Verify(sign(t, s, body, newSecret, signedAt), nil, signedAt), signature.ErrBadSecret)
			})
		})
	}
}

func TestStandardWebhooksWhsecSecret(t *testing.T) {
	t.Parallel()
	s, err := signature.New("standard-webhooks", signature.Options{})
	require.NoError(t, err)
	whsec := []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	r := sign(t, s, body, whsec, signedAt)
	require.NoError(t, s.Verify(r, [][]byte{whsec}, signedAt))
	// Pasted without its prefix the secret is still base64-decoded, as the
	// reference library's NewWebhook does: the same key.
	require.NoError(t, s.Verify(r, [][]byte{[]byte("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")}, signedAt))

	err = s.Verify(r, [][]byte{[]byte("whsec_%%%not-base64")}, signedAt)
	require.ErrorIs(t, err, signature.ErrBadSecret)
	require.NotContains(t, err.Error(), "not-base64")
}

func TestStandardWebhooksSkipsOtherVersions(t *testing.T) {
	t.Parallel()
	s, err := signature.New("standard-webhooks", signature.Options{})
	require.NoError(t, err)
	r := sign(t, s, body, newSecret, signedAt)
	r.Header.Set("webhook-signature", "v1a,c29tZXRoaW5n "+r.Header.Get("webhook-signature"))
	require.NoError(t, s.Verify(r, [][]byte{newSecret}, signedAt))

	r.Header.Del("webhook-id")
	require.ErrorIs(t, s.Verify(r, [][]byte{newSecret}, signedAt), signature.ErrBadSignature)
}

func TestHMACSignsMethodAndURL(t *testing.T) {
	t.Parallel()
	s, err := signature.New("hmac", signature.Options{Payload: "{method} {url}\n{body}", Encoding: "hex"})
	require.NoError(t, err)
	_, err = s.Sign(body, newSecret, signedAt, "")
	require.Error(t, err, "Sign cannot know the method and URL")

	rs, ok := s.(signature.RequestSigner)
	require.True(t, ok)
	r := &signature.Request{Method: http.MethodPost, URL: "/hooks/c1?x=1", Body: body}
	require.NoError(t, rs.SignRequest(r, newSecret, signedAt, ""))
	require.NoError(t, s.Verify(r, [][]byte{newSecret}, signedAt))

	r.URL = "/hooks/c2?x=1"
	require.ErrorIs(t, s.Verify(r, [][]byte{newSecret}, signedAt), signature.ErrBadSignature)
}

func TestHMACOptionsValidated(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]signature.Options{
		"unknown encoding":         {Encoding: "base32"},
		"unknown hash":             {Hash: "md5"},
		"unknown placeholder":      {Payload: "{nonce}.{body}"},
		"unclosed placeholder":     {Payload: "{body"},
		"timestamp without header": {Payload: "{timestamp}.{body}"},
		"id without header":        {Payload: "{id}.{body}"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := signature.New("hmac", opts)
			require.Error(t, err)
		})
	}
}

func TestHMACSHA1Hex(t *testing.T) {
	t.Parallel()
	s, err := signature.New("hmac", signature.Options{Header: "X-Hub-Signature", Prefix: "sha1=", Hash: "sha1"})
	require.NoError(t, err)
	r := sign(t, s, []byte("Hello, World!"), []byte("It's a Secret to Everybody"), signedAt)
	require.True(t, strings.HasPrefix(r.Header.Get("X-Hub-Signature"), "sha1="))
	require.Len(t, strings.TrimPrefix(r.Header.Get("X-Hub-Signature"), "sha1="), 40)
	require.NoError(t, s.Verify(r, [][]byte{[]byte("It's a Secret to Everybody")}, signedAt))
}

func TestSignsDelivery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scheme string
		opts   signature.Options
		want   bool
	}{
		{"standard-webhooks", signature.Options{}, true},
		{"stripe", signature.Options{}, true},
		{"slack", signature.Options{}, true},
		{"github", signature.Options{}, false},
		{"shopify", signature.Options{}, false},
		{"hubspot", signature.Options{}, true},
		{"intercom", signature.Options{}, false},
		{"zendesk", signature.Options{}, true},
		{"hmac", signature.Options{}, false},
		{"hmac", signature.Options{Payload: "{timestamp}.{body}", TimestampHeader: "X-Ts"}, true},
		{"hmac", signature.Options{Payload: "{id}.{body}", IDHeader: "X-Id"}, true},
	} {
		s, err := signature.New(tc.scheme, tc.opts)
		require.NoError(t, err)
		require.Equal(t, tc.want, signature.SignsDelivery(s), "%s %+v", tc.scheme, tc.opts)
	}
}

func TestHubSpotSignsMethodAndAbsoluteURL(t *testing.T) {
	t.Parallel()
	s, err := signature.New("hubspot", signature.Options{})
	require.NoError(t, err)
	_, err = s.Sign(body, newSecret, signedAt, "")
	require.Error(t, err, "Sign cannot know the method and URL")

	for name, change := range map[string]func(r *signature.Request){
		"other method": func(r *signature.Request) { r.Method = http.MethodPut },
		"other path":   func(r *signature.Request) { r.URL = "/hooks/c2" },
		"other host":   func(r *signature.Request) { r.Host = "evil.example.com" },
		"other time": func(r *signature.Request) {
			r.Header.Set("X-HubSpot-Request-Timestamp", fmt.Sprint(signedAt.UnixMilli()+1))
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := sign(t, s, body, newSecret, signedAt)
			require.NoError(t, s.Verify(r, [][]byte{newSecret}, signedAt))
			change(r)
			require.ErrorIs(t, s.Verify(r, [][]byte{newSecret}, signedAt), signature.ErrBadSignature)
		})
	}
	t.Run("seconds are not milliseconds", func(t *testing.T) {
		t.Parallel()
		r := sign(t, s, body, newSecret, signedAt)
		r.Header.Set("X-HubSpot-Request-Timestamp", fmt.Sprint(signedAt.Unix()))
		require.ErrorIs(t, s.Verify(r, [][]byte{newSecret}, signedAt), signature.ErrTimestamp)
	})
}

func TestZendeskTimestampIsISO8601(t *testing.T) {
	t.Parallel()
	s, err := signature.New("zendesk", signature.Options{})
	require.NoError(t, err)
	r := sign(t, s, body, newSecret, signedAt)
	require.Equal(t, "2023-11-14T22:13:20Z", r.Header.Get("X-Zendesk-Webhook-Signature-Timestamp"))
	r.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", fmt.Sprint(signedAt.Unix()))
	require.ErrorIs(t, s.Verify(r, [][]byte{newSecret}, signedAt), signature.ErrTimestamp)
}
