package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// River UI (the job browser) is served at /ui/queue/ to a signed-in
// operator, over the process's own queue, on both databases.
func TestQueueUIServesRiverUI(t *testing.T) {
	t.Parallel()
	dbs := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "accord.db") },
		"postgres": func(t *testing.T) string {
			dsn := os.Getenv("ACCORD_TEST_POSTGRES")
			if dsn == "" {
				t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
			}
			return postgresTestSchema(t, dsn)
		},
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := New(context.Background(), testConfig(t, db(t)), slog.New(slog.DiscardHandler), &Options{})
			require.NoError(t, err)
			require.NoError(t, a.Start(context.Background()))
			t.Cleanup(func() { _ = a.Stop(context.Background()) })
			base := "http://" + a.Addr()

			jar, err := cookiejar.New(nil)
			require.NoError(t, err)
			c := &http.Client{Jar: jar}
			resp, err := c.Get(base + "/ui/login")
			require.NoError(t, err)
			page, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
			require.NotNil(t, csrf)
			req, err := http.NewRequest(http.MethodPost, base+"/ui/login", strings.NewReader(url.Values{
				"token": {"test-admin-token"}, "csrf": {string(csrf[1])}}.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", base)
			resp, err = c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()

			code, body := getWith(t, c, base+"/ui/queue/")
			require.Equal(t, http.StatusOK, code)
			require.Contains(t, strings.ToLower(body), "<html", "River UI's page")
			code, body = getWith(t, c, base+"/ui/queue/api/jobs?state=completed&limit=5")
			require.Equal(t, http.StatusOK, code, body)
			require.Contains(t, body, `"data"`, "River UI's API answers over this process's queue")
		})
	}
}

func getWith(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}
