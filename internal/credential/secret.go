package credential

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Redacted is what a Secret prints as, in every format.
const Redacted = "[REDACTED]"

// Secret is a connection's credentials in the clear. It exists only in
// memory: the vault seals it before it reaches the store, and every way of
// printing or encoding it (fmt verbs, slog, JSON, text) yields Redacted, so
// a stray log line or error message cannot leak it.
type Secret struct {
	// OAuth 2.0 tokens.
	AccessToken  string
	RefreshToken string
	TokenType    string
	// Expiry of AccessToken; zero when the provider did not say.
	Expiry time.Time
	// API key authentication.
	APIKey string
	// Basic authentication.
	Username string
	Password string
	// Extra holds provider-specific values (for example an instance URL
	// returned with the token). Treated as secret like the rest.
	Extra map[string]string
}

// secretWire is the storage encoding. It is a distinct type so that
// Secret's redacting MarshalJSON does not apply.
type secretWire struct {
	AccessToken  string            `json:"at,omitempty"`
	RefreshToken string            `json:"rt,omitempty"`
	TokenType    string            `json:"tt,omitempty"`
	Expiry       time.Time         `json:"exp,omitzero"`
	APIKey       string            `json:"ak,omitempty"`
	Username     string            `json:"u,omitempty"`
	Password     string            `json:"pw,omitempty"`
	Extra        map[string]string `json:"x,omitempty"`
}

func (s Secret) encode() ([]byte, error) {
	return json.Marshal(secretWire(s))
}

func decodeSecret(b []byte) (Secret, error) {
	var w secretWire
	if err := json.Unmarshal(b, &w); err != nil {
		// json errors can quote input: never wrap them.
		return Secret{}, fmt.Errorf("credential: decoding secret: %w", ErrDecrypt)
	}
	return Secret(w), nil
}

// IsZero reports whether no credential is set.
func (s Secret) IsZero() bool {
	return s.AccessToken == "" && s.RefreshToken == "" && s.APIKey == "" &&
		s.Username == "" && s.Password == "" && len(s.Extra) == 0
}

// String implements fmt.Stringer and redacts.
func (s Secret) String() string { return "Secret" + Redacted }

// GoString implements fmt.GoStringer and redacts.
func (s Secret) GoString() string { return s.String() }

// Format implements fmt.Formatter so that every verb (%d and %x included,
// which would otherwise print fields) redacts.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer: only non-secret metadata is logged.
func (s Secret) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("secret", Redacted)}
	if s.TokenType != "" {
		attrs = append(attrs, slog.String("token_type", s.TokenType))
	}
	if !s.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", s.Expiry))
	}
	attrs = append(attrs, slog.Bool("has_refresh_token", s.RefreshToken != ""))
	return slog.GroupValue(attrs...)
}

// MarshalJSON implements json.Marshaler and redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// MarshalText implements encoding.TextMarshaler and redacts (it covers
// encoders that prefer text, such as map keys and some log handlers).
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

var (
	_ fmt.Stringer   = Secret{}
	_ fmt.GoStringer = Secret{}
	_ fmt.Formatter  = Secret{}
	_ slog.LogValuer = Secret{}
	_ json.Marshaler = Secret{}
)
