package credential_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
)

func testSecret() credential.Secret {
	return credential.Secret{
		AccessToken:  "AT-sekrit-1",
		RefreshToken: "RT-sekrit-2",
		TokenType:    "Bearer",
		Expiry:       time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		APIKey:       "AK-sekrit-3",
		Username:     "user-sekrit-4",
		Password:     "PW-sekrit-5",
		Extra:        map[string]string{"instance_url": "X-sekrit-6"},
	}
}

func TestSecretRedacts(t *testing.T) {
	t.Parallel()
	s := testSecret()
	ps := &s

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("refreshed", "secret", s, "ptr", ps)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("refreshed", "secret", s)

	js, err := json.Marshal(map[string]any{"s": s, "p": ps, "nested": struct{ S credential.Secret }{s}})
	require.NoError(t, err)

	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", ps, ps, ps),
		fmt.Errorf("refresh failed for %v", s).Error(),
		logs.String(), string(js),
	}
	for _, out := range outputs {
		for _, v := range []string{"sekrit", "AT-", "RT-", "AK-", "PW-"} {
			require.NotContains(t, out, v)
		}
	}
	require.Contains(t, logs.String(), "Bearer", "non-secret metadata is still logged")
}

func TestSealSecretRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	createTenants(t, b.st, "t1")

	sealed, err := b.vault.SealSecret(ctx, "t1", testSecret())
	require.NoError(t, err)
	require.NotContains(t, string(sealed), "sekrit")

	got, err := b.vault.OpenSecret(ctx, "t1", sealed)
	require.NoError(t, err)
	require.Equal(t, testSecret(), got)

	empty, err := b.vault.OpenSecret(ctx, "t1", nil)
	require.NoError(t, err)
	require.True(t, empty.IsZero())
}
