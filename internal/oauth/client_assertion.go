package oauth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// clientAssertion signs an RFC 7523 client authentication JWT: issuer and
// subject are the client id, audience the token endpoint, valid 5 minutes,
// with a unique jti so the provider can refuse replays.
func (p *ProviderConfig) clientAssertion(clientID string, now time.Time) (string, error) {
	key, err := parseRSAKey(p.PrivateKeyPEM)
	if err != nil {
		return "", fmt.Errorf("provider %s: %w", p.Name, err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if p.KeyID != "" {
		opts = opts.WithHeader("kid", p.KeyID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("provider %s: client assertion signer: %w", p.Name, err)
	}
	aud := p.Audience
	if aud == "" {
		aud = p.TokenURL
	}
	claims := josejwt.Claims{
		Issuer:    clientID,
		Subject:   clientID,
		Audience:  josejwt.Audience{aud},
		IssuedAt:  josejwt.NewNumericDate(now),
		NotBefore: josejwt.NewNumericDate(now.Add(-30 * time.Second)),
		Expiry:    josejwt.NewNumericDate(now.Add(5 * time.Minute)),
		ID:        randomToken(16),
	}
	s, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("provider %s: signing client assertion: %w", p.Name, err)
	}
	return s, nil
}

// parseRSAKey reads a PKCS#1 or PKCS#8 RSA private key. Errors never quote
// the key.
func parseRSAKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("private key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("private key is neither PKCS#1 nor PKCS#8")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("private key is not RSA")
	}
	return rk, nil
}
