package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// TestInstallTrafficUninstall: install, traffic, then uninstall through
// the API on both databases. Intake stops (the connections' webhooks are
// answered 410), secrets are wiped, the host hears of it through a signed
// change notification, and once the retention has passed nothing of the
// installation is left in any table but the audit log and the uninstall
// record.
func TestInstallTrafficUninstall(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setup(t, b)
			ctx := t.Context()

			// The host product listens for change notifications.
			var mu sync.Mutex
			var got []string
			var secret string
			host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				wh, err := standardwebhooks.NewWebhook(secret)
				if err != nil || wh.Verify(body, r.Header) != nil {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				var m struct {
					Type string `json:"type"`
				}
				_ = json.Unmarshal(body, &m)
				got = append(got, m.Type)
				w.WriteHeader(http.StatusNoContent)
			}))
			t.Cleanup(host.Close)
			status, ep := e.call(http.MethodPost, "/api/v1/tenants/acme/notification-endpoints", map[string]any{"url": host.URL})
			require.Equal(t, http.StatusCreated, status, ep)
			mu.Lock()
			secret = ep["secret"].(string)
			mu.Unlock()

			// Traffic: an escalation makes an incident (a link, events).
			tk := e.escalate("before uninstall", "high", "")
			e.waitIncident(tk.ID)
			e.barrier()

			status, u := e.call(http.MethodPost, "/api/v1/tenants/acme/installations/"+e.installation+"/uninstall", nil)
			require.Equal(t, http.StatusAccepted, status, u)
			require.Eventually(t, func() bool {
				_, u = e.call(http.MethodGet, "/api/v1/tenants/acme/installations/"+e.installation+"/uninstall", nil)
				return u["state"] == "retaining"
			}, waitFor, 20*time.Millisecond, "tokens revoked and jobs cancelled; data kept for the retention")
			for _, id := range []string{e.helpdeskConn, e.incidentsConn, e.chatConn} {
				c, err := e.app.Store.GetConnection(ctx, tenantID, id)
				require.NoError(t, err)
				require.Equal(t, store.ConnectionDisconnected, c.State)
				require.Empty(t, c.Secret, "secret wiped")
			}
			// The ingress reuses a looked-up connection for up to its
			// ConnectionTTL (5s): then every webhook is answered 410.
			require.Eventually(t, func() bool {
				resp, err := http.Post(e.url+"/hooks/"+e.helpdeskConn, "application/json", bytes.NewReader([]byte(`{}`)))
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusGone
			}, waitFor, 100*time.Millisecond, "intake stopped")
			require.Eventually(t, func() bool {
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for _, typ := range got {
					if typ == "connection.state_changed" {
						n++
					}
				}
				return n == 3 && contains(got, "installation.uninstalled")
			}, waitFor, 20*time.Millisecond, "the host heard of it")

			// The retention passes (the stored purge time is moved, as the
			// snoozed job would find it a month from now); the job runs again.
			un, err := e.app.Store.GetUninstall(ctx, tenantID, e.installation)
			require.NoError(t, err)
			un.PurgeAfter = time.Now().Add(-time.Second)
			require.NoError(t, e.app.Store.UpdateUninstall(ctx, un))
			require.NoError(t, e.app.Uninstaller.Run(ctx, tenantID, e.installation))
			_, u = e.call(http.MethodGet, "/api/v1/tenants/acme/installations/"+e.installation+"/uninstall", nil)
			require.Equal(t, "done", u["state"])

			for table, n := range tenantRows(t, e.app.Store) {
				require.Zero(t, n, "rows of tenant acme left in %s", table)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (e *env) call(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.url+path, rd)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// tenantRows counts tenant acme's rows in every table that has a
// tenant_id, but the audit log, the uninstall record, the tenant's data
// key and the notification endpoint the test registered (and its log).
func tenantRows(t *testing.T, st store.Store) map[string]int {
	t.Helper()
	ctx := context.Background()
	keep := map[string]bool{"audit_log": true, "uninstalls": true, "tenants": true, "data_keys": true,
		"notify_endpoints": true, "notify_deliveries": true}
	out := map[string]int{}
	switch db := st.Driver().(type) {
	case *sql.DB:
		rows, err := db.QueryContext(ctx, `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
			WHERE m.type = 'table' AND c.name = 'tenant_id'`)
		require.NoError(t, err)
		var tables []string
		for rows.Next() {
			var n string
			require.NoError(t, rows.Scan(&n))
			tables = append(tables, n)
		}
		require.NoError(t, rows.Close())
		for _, tb := range tables {
			if keep[tb] {
				continue
			}
			var n int
			require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM `+tb+` WHERE tenant_id = ?`, tenantID).Scan(&n))
			out[tb] = n
		}
	case *pgxpool.Pool:
		rows, err := db.Query(ctx, `SELECT table_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND column_name = 'tenant_id'`)
		require.NoError(t, err)
		var tables []string
		for rows.Next() {
			var n string
			require.NoError(t, rows.Scan(&n))
			tables = append(tables, n)
		}
		rows.Close()
		for _, tb := range tables {
			if keep[tb] {
				continue
			}
			var n int
			require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM `+tb+` WHERE tenant_id = $1`, tenantID).Scan(&n))
			out[tb] = n
		}
	default:
		t.Fatalf("unknown driver %T", db)
	}
	require.Contains(t, out, "events", "the check sees the tables")
	return out
}
