package signature_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/webhook/signature"
)

// Test vectors published by the providers themselves: if our reading of a
// format drifts from theirs, these fail even though Sign/Verify round-trips.
func TestProviderVectors(t *testing.T) {
	t.Parallel()
	slackBody := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	tests := []struct {
		name, scheme, secret, body string
		header                     http.Header
		now                        time.Time
	}{
		{
			// Standard Webhooks reference libraries' test vector.
			name: "standard webhooks spec", scheme: "standard-webhooks",
			secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body: `{"test": 2432232314}`,
			header: http.Header{
				"Webhook-Id":        {"msg_p5jXN8AQM9LWM0D4loKWxJek"},
				"Webhook-Timestamp": {"1614265330"},
				"Webhook-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
			},
			now: time.Unix(1614265330, 0),
		},
		{
			// The same vector with the secret pasted without "whsec_": the
			// reference library base64-decodes it all the same.
			name: "standard webhooks secret without prefix", scheme: "standard-webhooks",
			secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body: `{"test": 2432232314}`,
			header: http.Header{
				"Webhook-Id":        {"msg_p5jXN8AQM9LWM0D4loKWxJek"},
				"Webhook-Timestamp": {"1614265330"},
				"Webhook-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
			},
			now: time.Unix(1614265330, 0),
		},
		{
			// GitHub docs, "Validating webhook deliveries".
			name: "github docs", scheme: "github",
			secret: "It's a Secret to Everybody", body: "Hello, World!",
			header: http.Header{"X-Hub-Signature-256": {"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}},
			now:    time.Unix(0, 0),
		},
		{
			// Slack docs, "Verifying requests from Slack".
			name: "slack docs", scheme: "slack",
			secret: "8f742231b10e8888abcd99yyyzzz85a5", body: slackBody,
			header: http.Header{
				"X-Slack-Request-Timestamp": {"1531420618"},
				"X-Slack-Signature":         {"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"},
			},
			now: time.Unix(1531420618, 0),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := signature.New(tc.scheme, signature.Options{})
			require.NoError(t, err)
			r := &signature.Request{Header: tc.header, Body: []byte(tc.body)}
			require.NoError(t, s.Verify(r, [][]byte{[]byte(tc.secret)}, tc.now))

			// Our Sign must produce the very same header.
			h, err := s.Sign([]byte(tc.body), []byte(tc.secret), tc.now, tc.header.Get("Webhook-Id"))
			require.NoError(t, err)
			for k := range tc.header {
				require.Equal(t, tc.header.Get(k), h.Get(k), k)
			}
		})
	}
}
