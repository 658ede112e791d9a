package signature_test

import (
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/webhook/signature"
)

func ExampleNew() {
	s, _ := signature.New("stripe", signature.Options{})
	secret := []byte("whsec_test")
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"id":"evt_1"}`)

	h, _ := s.Sign(body, secret, now, "")
	fmt.Println(h.Get("Stripe-Signature")[:13])

	err := s.Verify(&signature.Request{Header: h, Body: body}, [][]byte{secret}, now.Add(10*time.Minute))
	fmt.Println(err)
	// Output:
	// t=1700000000,
	// stripe: signature: timestamp outside tolerance: timestamp is 600s old, tolerance is 5m0s
}
