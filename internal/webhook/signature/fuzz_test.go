package signature_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/accordhq/accord/internal/webhook/signature"
)

// FuzzVerify feeds hostile header values to every scheme's parser: Verify
// must never panic and never accept a header that was not signed with the
// secret.
func FuzzVerify(f *testing.F) {
	f.Add("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,xyz", "1614265330")
	f.Add("t=1614265330,v1=abcdef,v1=,v0=00", "-9223372036854775808")
	f.Add("sha256=zz", "99999999999999999999")
	f.Add("v0=", "")
	f.Add("sha256=,,, ,sha256=AAAA", "1700000000")
	f.Add("sha1=00", "2023-11-14T22:13:20Z")
	f.Add("AAAA", "1700000000000")
	secret := [][]byte{[]byte("fuzz-secret")}
	now := time.Unix(1_700_000_000, 0)
	var schemes []signature.Scheme
	for _, tc := range schemeCases() {
		s, err := signature.New(tc.name, tc.opts)
		if err != nil {
			f.Fatal(err)
		}
		schemes = append(schemes, s)
	}
	f.Fuzz(func(t *testing.T, sig, ts string) {
		h := http.Header{}
		for _, name := range []string{"webhook-signature", "Stripe-Signature", "X-Hub-Signature-256", "X-Slack-Signature", "X-Shopify-Hmac-Sha256", "X-Sig", "X-HubSpot-Signature-v3", "X-Hub-Signature", "X-Zendesk-Webhook-Signature"} {
			h.Set(name, sig)
		}
		for _, name := range []string{"webhook-timestamp", "X-Slack-Request-Timestamp", "X-Sig-Timestamp", "X-HubSpot-Request-Timestamp", "X-Zendesk-Webhook-Signature-Timestamp"} {
			h.Set(name, ts)
		}
		h.Set("webhook-id", "msg_1")
		for _, s := range schemes {
			if err := s.Verify(&signature.Request{Method: "POST", URL: "/hooks/c1", Host: "accord.example.com", Header: h, Body: []byte("body")}, secret, now); err == nil {
				t.Fatalf("%T accepted an unsigned header %q", s, sig)
			}
		}
	})
}
