package queue

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	in := &Config{Queues: map[string]QueueConfig{"sync": {}, "hooks": {MaxWorkers: 5}}}
	c := in.withDefaults()
	require.Equal(t, 1000, c.MaxWorkers)
	require.Equal(t, 10*time.Millisecond, c.FetchCooldown)
	require.Equal(t, 100*time.Millisecond, c.FetchPollInterval)
	require.Equal(t, 25, c.MaxAttempts)
	require.Equal(t, time.Minute, c.JobTimeout)
	require.Equal(t, map[string]QueueConfig{"sync": {MaxWorkers: 1000}, "hooks": {MaxWorkers: 5}}, c.Queues)
	require.IsType(t, &Backoff{}, c.RetryPolicy)
	require.NotNil(t, c.Logger)
	require.Equal(t, QueueConfig{}, in.Queues["sync"], "the caller's config is not changed")

	var nilCfg *Config
	require.Equal(t, map[string]QueueConfig{QueueDefault: {MaxWorkers: 1000}}, nilCfg.withDefaults().Queues)
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	sqliteStore := openSQLite(t)
	tests := []struct {
		name    string
		st      store.Store
		reg     *Registry
		cfg     *Config
		wantErr error
		wantMsg string
	}{
		{"poll shorter than cooldown", sqliteStore, NewRegistry(), &Config{FetchCooldown: time.Second, FetchPollInterval: time.Millisecond}, nil, "FetchPollInterval"},
		{"negative workers", sqliteStore, NewRegistry(), &Config{MaxWorkers: -1}, nil, "MaxWorkers"},
		{"queue without workers", sqliteStore, NewRegistry(), &Config{Queues: map[string]QueueConfig{"q": {MaxWorkers: -3}}}, nil, `queue "q"`},
		{"unknown dialect", &fakeStore{dialect: "oracle"}, NewRegistry(), nil, ErrUnsupportedDialect, ""},
		{"postgres store without a pool", &fakeStore{dialect: store.DialectPostgres, driver: (*pgxpool.Pool)(nil)}, NewRegistry(), nil, ErrUnsupportedDialect, "pgxpool"},
		{"sqlite store without a db", &fakeStore{dialect: store.DialectSQLite, driver: "not a db"}, NewRegistry(), nil, ErrUnsupportedDialect, "*sql.DB"},
		{"no registry", sqliteStore, nil, nil, nil, "registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.st, tt.reg, tt.cfg)
			require.Error(t, err)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			}
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}
