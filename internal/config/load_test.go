package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func load(t *testing.T, file string, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	l := Bind(fs)
	l.Env = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if file != "" {
		path := filepath.Join(t.TempDir(), "accord.yaml")
		require.NoError(t, os.WriteFile(path, []byte(file), 0o600))
		args = append([]string{"--config", path}, args...)
	}
	require.NoError(t, fs.Parse(args))
	return l.Load()
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	_, err := load(t, "", nil, "--config", filepath.Join(t.TempDir(), "none.yaml"))
	require.Error(t, err, "a named config file that does not exist is an error")

	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	l := Bind(fs)
	l.Env = func(string) (string, bool) { return "", false }
	require.NoError(t, fs.Parse(nil))
	cfg, err := l.Load()
	require.NoError(t, err)
	require.Equal(t, "sqlite:accord.db", cfg.DB)
	require.Equal(t, "127.0.0.1:8080", cfg.Addr)
	require.Equal(t, RoleAll, cfg.Role)
	require.Equal(t, 30*time.Second, cfg.ShutdownTimeout)
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	file := "addr: 127.0.0.1:9000\nrole: api\nlog_format: text\n"
	env := map[string]string{"ACCORD_ROLE": "worker", "ACCORD_LOG_FORMAT": "json"}

	cfg, err := load(t, file, env, "--log-format", "text")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9000", cfg.Addr, "file overrides default")
	require.Equal(t, RoleWorker, cfg.Role, "env overrides file")
	require.Equal(t, "text", cfg.LogFormat, "flag overrides env")
}

func TestLoadFileErrorsHavePositions(t *testing.T) {
	t.Parallel()
	_, err := load(t, "addr: 127.0.0.1:9000\nrol: api\nworkers: many\n", nil)
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), `accord.yaml:2:1: unknown setting "rol" (did you mean "role"?)`)
	require.Contains(t, err.Error(), `accord.yaml:3:10: workers: "many" is not a whole number`)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--role", "both"}, `role "both"`},
		{[]string{"--db", "mysql://root:hunter2@x/db"}, `use sqlite:PATH or postgres://`},
		{[]string{"--workers", "0"}, "workers must be at least 1"},
	} {
		_, err := load(t, "", nil, tc.args...)
		require.ErrorContains(t, err, tc.want)
		require.NotContains(t, err.Error(), "hunter2", "a password must never reach an error")
	}
}

func TestParseDB(t *testing.T) {
	t.Parallel()
	d, target, err := ParseDB("sqlite:/tmp/x.db")
	require.NoError(t, err)
	require.Equal(t, "sqlite", d)
	require.Equal(t, "/tmp/x.db", target)
	d, target, err = ParseDB("postgres://postgres@127.0.0.1:5432/test")
	require.NoError(t, err)
	require.Equal(t, "postgres", d)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/test", target)
}

func TestDescribeMasksSecrets(t *testing.T) {
	t.Parallel()
	cfg := Defaults()
	cfg.MasterKey = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="
	cfg.DB = "postgres://app:hunter2@db:5432/accord"
	d := cfg.Describe()
	require.Equal(t, "[redacted]", d["master_key"])
	require.Equal(t, "postgres://app:xxxxx@db:5432/accord", d["db"])
}

func TestBoolFlagsNeedNoValue(t *testing.T) {
	t.Parallel()
	cfg, err := load(t, "", nil, "--no-migrate", "--allow-loopback-partners")
	require.NoError(t, err)
	require.True(t, cfg.NoMigrate)
	require.True(t, cfg.AllowLoopbackPartners)

	cfg, err = load(t, "", nil, "--no-migrate=false")
	require.NoError(t, err)
	require.False(t, cfg.NoMigrate)
}

func TestLoadFileRejectsDuplicateKeys(t *testing.T) {
	t.Parallel()
	_, err := load(t, "addr: 127.0.0.1:9000\nrole: api\naddr: 127.0.0.1:9001\n", nil)
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), `accord.yaml:3:1: setting "addr" is given twice (first at line 1); keep one`)
}

func TestWebhookSettings(t *testing.T) {
	t.Parallel()
	cfg := Defaults()
	require.Equal(t, 64<<20, cfg.WebhookMaxBytesInFlight)
	require.Equal(t, 64, cfg.WebhookMaxConcurrentPerConnection)
	require.Equal(t, 10*time.Second, cfg.WebhookCommitTimeout)

	cfg, err := load(t, "webhook_max_bytes_in_flight: 1048576\nwebhook_commit_timeout: 2s\n", nil)
	require.NoError(t, err)
	require.Equal(t, 1<<20, cfg.WebhookMaxBytesInFlight)
	require.Equal(t, 2*time.Second, cfg.WebhookCommitTimeout)

	_, err = load(t, "webhook_max_concurrent_per_connection: 0\n", nil)
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "webhook_max_concurrent_per_connection must be at least 1")
}

// Relative paths in a config file are relative to the file: `accord serve
// --config /etc/accord/accord.yaml` started from anywhere opens the same
// database. Environment and flags stay relative to the working directory.
func TestLoadFilePathsAreRelativeToTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "accord.yaml")
	require.NoError(t, os.WriteFile(path, []byte("db: sqlite:data/accord.db\npacks: mypacks\nmaster_key_file: keys/master.key\n"), 0o600))
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	l := Bind(fs)
	l.Env = func(string) (string, bool) { return "", false }
	require.NoError(t, fs.Parse([]string{"--config", path}))
	cfg, err := l.Load()
	require.NoError(t, err)
	require.Equal(t, "sqlite:"+filepath.Join(dir, "data", "accord.db"), cfg.DB)
	require.Equal(t, filepath.Join(dir, "mypacks"), cfg.Packs)
	require.Equal(t, filepath.Join(dir, "keys", "master.key"), cfg.MasterKeyFile)

	for in, want := range map[string]string{
		"postgres://u@h/db":    "postgres://u@h/db",
		"sqlite:/abs/a.db":     "sqlite:/abs/a.db",
		"sqlite::memory:":      "sqlite::memory:",
		"/abs/packs":           "/abs/packs",
		"":                     "",
		"sqlite:file:x.db?m=1": "sqlite:file:x.db?m=1",
	} {
		require.Equal(t, want, relativeTo("/etc/accord", in), in)
	}
}
