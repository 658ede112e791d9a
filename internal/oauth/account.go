package oauth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/oauth2"
)

// accountID returns the provider account a token response belongs to, or
// "" when the provider does not say. The id_token is read without checking
// its signature: it came straight from the token endpoint over the
// connection Accord opened (OpenID Connect Core §3.1.3.7 allows the TLS
// server check in place of the signature), and it is used to compare two
// grants of one provider, never to sign anyone in.
func (p *ProviderConfig) accountID(tok *oauth2.Token) string {
	if p.AccountIDField != "" {
		return extraString(tok, p.AccountIDField)
	}
	if raw, ok := tok.Extra("id_token").(string); ok && raw != "" {
		if sub := jwtSubject(raw); sub != "" {
			return sub
		}
	}
	for _, f := range []string{"account_id", "user_id"} {
		if v := extraString(tok, f); v != "" {
			return v
		}
	}
	return ""
}

func extraString(tok *oauth2.Token, field string) string {
	switch v := tok.Extra(field).(type) {
	case string:
		return v
	case float64:
		return fmt.Sprintf("%.0f", v)
	}
	return ""
}

// jwtSubject returns a compact JWT's "sub" claim, or "".
func jwtSubject(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Sub == "" {
		return ""
	}
	if claims.Iss != "" {
		return claims.Iss + "#" + claims.Sub
	}
	return claims.Sub
}
