package signature

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // some partners still sign with HMAC-SHA1
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

func computeMAC(newHash func() hash.Hash, secret []byte, parts ...[]byte) []byte {
	m := hmac.New(newHash, secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func hashFunc(name string) (func() hash.Hash, error) {
	switch name {
	case "", "sha256":
		return sha256.New, nil
	case "sha1":
		return sha1.New, nil
	case "sha512":
		return sha512.New, nil
	}
	return nil, fmt.Errorf("unknown hash %q (want sha256, sha1 or sha512)", name)
}

// encoding decodes and encodes MACs in one textual form.
type encoding struct {
	encode func([]byte) string
	decode func(string) ([]byte, error)
}

var (
	hexEncoding    = encoding{encode: hex.EncodeToString, decode: hex.DecodeString}
	base64Encoding = encoding{encode: base64.StdEncoding.EncodeToString, decode: decodeBase64}
)

// decodeBase64 accepts standard and URL alphabets, padded or not, because
// partners are not consistent about either.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}

func encodingFor(name string) (encoding, error) {
	switch name {
	case "", "hex":
		return hexEncoding, nil
	case "base64":
		return base64Encoding, nil
	}
	return encoding{}, fmt.Errorf("unknown encoding %q (want hex or base64)", name)
}

// anyMatch reports whether any candidate MAC equals the MAC of payload under
// any secret. Every comparison is constant-time; the loop does not stop early
// on secrets so that timing does not reveal which secret matched.
func anyMatch(newHash func() hash.Hash, secrets [][]byte, candidates [][]byte, payload ...[]byte) bool {
	ok := false
	for _, s := range secrets {
		want := computeMAC(newHash, s, payload...)
		for _, c := range candidates {
			if hmac.Equal(want, c) {
				ok = true
			}
		}
	}
	return ok
}

// checkTimestamp parses a unix-seconds timestamp and rejects it when it lies
// further than tol from now in either direction.
func checkTimestamp(scheme, raw string, now time.Time, tol time.Duration) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return verifyError(ErrTimestamp, scheme, "no timestamp")
	}
	sec, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return verifyError(ErrTimestamp, scheme, "timestamp is not unix seconds")
	}
	// Compare in seconds: converting a hostile huge value to time.Time and
	// subtracting would overflow time.Duration.
	diff := now.Unix() - sec
	limit := int64(tol / time.Second)
	switch {
	case diff > limit:
		return verifyError(ErrTimestamp, scheme, "timestamp is %ds old, tolerance is %s", diff, tol)
	case -diff > limit:
		return verifyError(ErrTimestamp, scheme, "timestamp is %ds in the future, tolerance is %s", -diff, tol)
	}
	return nil
}

func unixString(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func noSecrets(scheme string) error {
	return verifyError(ErrBadSecret, scheme, "no secret configured")
}
