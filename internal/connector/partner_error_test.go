package connector

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 800)
	cases := []struct {
		name      string
		status    int
		body      string
		class     string
		message   string
		retryable bool
	}{
		{"401 auth", 401, `{"error":{"detail":"invalid token"}}`, spec.ClassAuth, "invalid token", false},
		{"403 permission", 403, `{"error":{"detail":"missing scope incidents:write"}}`, spec.ClassPermission, "missing scope incidents:write", false},
		{"400 validation", 400, `{"error":{"detail":"bad json"}}`, spec.ClassValidation, "bad json", false},
		{"422 validation", 422, `{"error":{"detail":"title is required"}}`, spec.ClassValidation, "title is required", false},
		{"404 not found", 404, `{"error":{"detail":"no such incident"}}`, spec.ClassNotFound, "no such incident", false},
		{"429 rate limited", 429, `{"error":{"detail":"slow down"}}`, spec.ClassRateLimited, "slow down", true},
		{"408 transient", 408, ``, spec.ClassTransient, "Request Timeout", true},
		{"500 transient", 500, `{"error":{"detail":"oops"}}`, spec.ClassTransient, "oops", true},
		{"503 transient", 503, `<html><body>Service Unavailable</body></html>`, spec.ClassTransient, "Service Unavailable", true},
		{"other 4xx is permanent", 418, `{"message":"teapot"}`, spec.ClassValidation, "teapot", false},
		{"manifest rule on body beats the 400 default", 400, `{"error":{"code":"too_many_requests","detail":"quota"}}`, spec.ClassRateLimited, "quota", true},
		{"manifest rule on status beats the 4xx default", 409, `{"error":{"detail":"locked"}}`, spec.ClassTransient, "locked", true},
		{"fallback message path", 422, `{"errors":[{"message":"email is invalid"}]}`, spec.ClassValidation, "email is invalid", false},
		{"plain text message", 422, "name too long\n", spec.ClassValidation, "name too long", false},
		{"redirect is not followed", 302, ``, spec.ClassValidation, "unexpected redirect to /elsewhere", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, reply(tc.status, tc.body, "Location", "/elsewhere"))
			_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{"title": "x"}, Auth: apiKey()})
			var pe *PartnerError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.class, pe.Class)
			require.Equal(t, tc.status, pe.Status)
			require.Equal(t, tc.message, pe.Message)
			require.Equal(t, tc.retryable, IsRetryable(err))
			require.Len(t, b.requests(), 1, "not followed, not retried")
		})
	}

	t.Run("message truncated to 500 characters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, reply(422, `{"error":{"detail":"`+long+`"}}`))
		_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{}})
		var pe *PartnerError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, 500, utf8.RuneCountInString(pe.Message))
		require.True(t, utf8.ValidString(pe.Message))
	})
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		header string
		want   time.Duration
		ok     bool
	}{
		{"seconds", "120", 2 * time.Minute, true},
		{"HTTP date relative to the clock", testNow.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"date in the past", testNow.Add(-time.Minute).Format(http.TimeFormat), 0, false},
		{"garbage", "soon", 0, false},
		{"absurd value is capped", "999999999999", maxRetryAfter, true},
		{"absent", "", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hdr []string
			if tc.header != "" {
				hdr = []string{"Retry-After", tc.header}
			}
			b := setup(t, reply(http.StatusTooManyRequests, `{}`, hdr...))
			_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{}})
			require.True(t, IsRateLimited(err))
			d, ok := RetryAfter(err)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, d)
		})
	}
	_, ok := RetryAfter(errors.New("not a partner error"))
	require.False(t, ok)
}

func TestNetworkErrorsAreTransient(t *testing.T) {
	t.Parallel()

	t.Run("connection reset", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST, not FIN
				}
				_ = conn.Close()
			}
		})
		_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{}, IdempotencyKey: "k"})
		var pe *PartnerError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, spec.ClassTransient, pe.Class)
		require.Zero(t, pe.Status)
		require.True(t, IsRetryable(err))
	})

	t.Run("closed before answering", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		})
		_, err := b.conn.Get(context.Background(), Call{Object: "incident", ID: "1"})
		require.True(t, IsRetryable(err), "%v", err)
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		b := setup(t, func(http.ResponseWriter, *http.Request) { <-release },
			func(_ *spec.Provider, c *Config) { c.Timeout = 50 * time.Millisecond })
		t.Cleanup(func() { close(release) })
		_, err := b.conn.Get(context.Background(), Call{Object: "incident", ID: "1"})
		var pe *PartnerError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, spec.ClassTransient, pe.Class)
		require.Contains(t, pe.Message, "timeout")
	})

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t, reply(200, `{}`))
		b.srv.Close()
		_, err := b.conn.Get(context.Background(), Call{Object: "incident", ID: "1"})
		var pe *PartnerError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "connection refused", pe.Message)
		require.True(t, IsRetryable(err))
	})

	t.Run("caller cancellation is not the partner's fault", func(t *testing.T) {
		t.Parallel()
		b := setup(t, reply(200, `{}`))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := b.conn.Get(ctx, Call{Object: "incident", ID: "1"})
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, IsRetryable(err))
	})
}

func TestSecretNeverInErrors(t *testing.T) {
	t.Parallel()
	// A partner that echoes every credential it was sent into its message.
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			msg := "rejected: auth=" + r.Header.Get("Authorization") + " key=" + r.Header.Get("X-Api-Key") + " query=" + r.URL.RawQuery
			reply(status, `{"error":{"detail":"`+msg+`"}}`)(w, r)
		}
	}
	auths := map[string]func() Authorizer{
		"api key header":      func() Authorizer { return APIKey{Header: "X-Api-Key", Key: testSecret} },
		"api key with prefix": func() Authorizer { return APIKey{Prefix: "Token ", Key: testSecret} },
		"api key in query":    func() Authorizer { return APIKey{QueryParam: "api_key", Key: testSecret} },
		"bearer":              func() Authorizer { return Bearer{Token: testSecret} },
		"basic":               func() Authorizer { return Basic{Username: "bot", Password: testSecret} },
		// Another package's Authorizer: scrubbed without its cooperation.
		"foreign authorizer": func() Authorizer { return &refresher{token: testSecret, fail: errors.New("no refresh")} },
	}
	for name, newAuth := range auths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, status := range []int{401, 403, 422, 500} {
				b := setup(t, echo(status))
				_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{}, Auth: newAuth()})
				require.Error(t, err)
				require.NotContains(t, err.Error(), testSecret)
				require.Contains(t, err.Error(), "[redacted]", "the echo was scrubbed, not dropped")
			}

			// A transport failure with the key in the URL.
			b := setup(t, reply(200, `{}`))
			b.srv.Close()
			_, err := b.conn.Get(context.Background(), Call{Object: "incident", ID: "1", Auth: newAuth()})
			require.Error(t, err)
			require.NotContains(t, err.Error(), testSecret)

			if _, ours := newAuth().(*refresher); !ours {
				require.NotContains(t, fmtAll(newAuth()), testSecret)
			}
		})
	}
}

func fmtAll(v any) string {
	var sb strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		sb.WriteString(sprintf(verb, v))
	}
	return sb.String()
}
