package ui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/web/api"
)

// fakeSyncer records what the page asked for and answers like the syncer.
type fakeSyncer struct {
	mu    sync.Mutex
	runs  []string
	tests []string
}

func (f *fakeSyncer) RunNow(_ context.Context, _, id string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, id)
	return []string{"escalated"}, nil
}

func (f *fakeSyncer) ReconcileNow(context.Context, string, string) error { return nil }

func (f *fakeSyncer) TestRecord(_ context.Context, _, _, trigger, objectID string) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tests = append(f.tests, trigger+"/"+objectID)
	if objectID == "T-missing" {
		return nil, fmt.Errorf("reading helpdesk ticket T-missing: partner answered 404")
	}
	return map[string]any{"outcome": "applied", "source": map[string]any{"id": objectID, "title": "Checkout down"},
		"actions": []map[string]any{{"action": "create_incident", "before": nil, "after": map[string]any{"title": "Checkout down"}}}}, nil
}

// postForm submits form from page to path and returns the answer's status,
// body and redirect.
func postForm(t *testing.T, c *browser, page, path string, form url.Values) (int, string, string) {
	t.Helper()
	_, body := c.get(page)
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(t, m, "no csrf token on %s", page)
	form.Set("csrf", m[1])
	req, err := http.NewRequest(http.MethodPost, c.b.url+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.b.url)
	resp, err := c.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw), resp.Header.Get("Location")
}

// The installation page of a scheduled contract shows its sync runs, runs
// one now, and test-syncs a record the admin names, showing the record and
// the target before and after; a viewer sees the runs but can change
// nothing.
func TestInstallationPageSyncs(t *testing.T) {
	t.Parallel()
	f := &fakeSyncer{}
	b := setupWith(t, setupOptions{syncer: f})
	page := "/ui/t/acme/installations/" + b.inst.ID

	viewer := b.browser(t)
	viewer.login(b.token(t, "viewer", ""))
	status, body := viewer.get(page)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Scheduled sync")
	require.NotContains(t, body, "Test sync this record", "a viewer gets no forms")
	resp := viewer.post(page, page+"/sync", url.Values{})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	admin := b.browser(t)
	admin.login(adminToken)
	status, _, loc := postForm(t, admin, page, page+"/sync", url.Values{})
	require.Equal(t, http.StatusSeeOther, status)
	require.Equal(t, page+"?synced=1", loc)
	_, body = admin.get(loc)
	require.Contains(t, body, "A sync run was queued")

	status, body, _ = postForm(t, admin, page, page+"/sync/test", url.Values{"trigger": {"escalated"}, "object_id": {"T-7"}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `id="test-sync-result"`)
	require.Contains(t, body, "Checkout down")
	require.Contains(t, body, "&#34;before&#34;: null", "the target before: none yet")

	_, body, _ = postForm(t, admin, page, page+"/sync/test", url.Values{"trigger": {"escalated"}, "object_id": {"T-missing"}})
	require.Contains(t, body, "The test sync did not run: reading helpdesk ticket T-missing: partner answered 404")
	_, body, _ = postForm(t, admin, page, page+"/sync/test", url.Values{"trigger": {"escalated"}, "object_id": {" "}})
	require.Contains(t, body, "Enter the id of a record")

	f.mu.Lock()
	require.Equal(t, []string{b.inst.ID}, f.runs)
	require.Equal(t, []string{"escalated/T-7", "escalated/T-missing"}, f.tests)
	f.mu.Unlock()
	entries, err := b.st.ListAudit(t.Context(), "acme", 0, 100)
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	require.Contains(t, actions, "installation.sync_requested")
	require.Contains(t, actions, "installation.test_sync")
}

var _ api.Syncer = (*fakeSyncer)(nil)
