package signature_test

import (
	"bytes"
	"testing"

	"github.com/accordhq/accord/internal/webhook/signature"
)

func BenchmarkVerify(b *testing.B) {
	payload := bytes.Repeat([]byte(`{"field":"value"},`), 256) // ~4.5 KiB, a typical event
	for _, tc := range schemeCases() {
		b.Run(tc.name, func(b *testing.B) {
			s, err := signature.New(tc.name, tc.opts)
			if err != nil {
				b.Fatal(err)
			}
			h, err := s.Sign(payload, newSecret, signedAt, "msg_1")
			if err != nil {
				b.Fatal(err)
			}
			r := &signature.Request{Header: h, Body: payload}
			// Two secrets: the rotation window is the worst case.
			secrets := [][]byte{oldSecret, newSecret}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Verify(r, secrets, signedAt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
