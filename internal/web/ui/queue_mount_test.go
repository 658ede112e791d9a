package ui_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The job queue's UI spans every tenant: every-tenant roles may look, only
// an operator or admin may change jobs, a tenant's admin may not see it.
func TestQueueUIIsBehindTheRoles(t *testing.T) {
	t.Parallel()
	fake := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "river ui "+r.Method)
	})
	b := setupWith(t, setupOptions{queue: fake})

	anon := b.browser(t)
	code, _ := anon.get("/ui/queue/")
	require.Equal(t, http.StatusSeeOther, code, "signed out: sent to sign in")

	viewer := b.browser(t)
	viewer.login(b.token(t, "viewer", ""))
	code, body := viewer.get("/ui/queue/")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "river ui GET", body)
	require.Equal(t, http.StatusForbidden, viewer.do(http.MethodPost, "/ui/queue/api/jobs/retry"), "a viewer changes no job")

	operator := b.browser(t)
	operator.login(b.token(t, "operator", ""))
	require.Equal(t, http.StatusOK, operator.do(http.MethodPost, "/ui/queue/api/jobs/retry"))

	tenant := b.browser(t)
	tenant.login(b.token(t, "tenant", "acme"))
	code, _ = tenant.get("/ui/queue/")
	require.Equal(t, http.StatusForbidden, code, "a tenant's admin does not see other tenants' jobs")
}

// do sends a bodiless JSON request from this site, as River UI's page
// does, and returns the status.
func (c *browser) do(method, path string) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.b.url+path, strings.NewReader("{}"))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.b.url)
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	resp.Body.Close()
	return resp.StatusCode
}
