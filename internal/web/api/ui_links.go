package api

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// UILinkPath is where a tenant link opens (?t=<token>); the ui package
// serves it. The token rides in the query, which access logs never
// record.
const UILinkPath = "/ui/link"

// Tenant links live minutes: the host product creates one as its user
// clicks through to Accord, and the link works once.
const (
	defaultUILinkTTL = 5 * time.Minute
	maxUILinkTTL     = time.Hour
)

// UILink is the answer to POST /api/v1/tenants/{tenant}/ui-links.
type UILink struct {
	// Path is the link's path and query (/ui/link?t=…); URL adds the public base URL
	// when one is configured.
	Path      string    `json:"path"`
	URL       string    `json:"url,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

type uiLinkInput struct {
	// TTL is how long the link may wait for its one use ("5m"); at most 1h.
	TTL string `json:"ttl,omitempty"`
}

// createUILink makes a single-use, short-lived signed link that opens the
// tenant's pages with tenant rights. The host product calls it for its
// signed-in user and redirects (or frames) them there.
func (a *API) createUILink(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Signer == nil {
		return &Error{Status: http.StatusNotImplemented, Msg: "tenant links are not configured on this process"}
	}
	var in uiLinkInput
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	ttl := defaultUILinkTTL
	if in.TTL != "" {
		d, err := spec.ParseDuration(in.TTL)
		if err != nil || d <= 0 || d > maxUILinkTTL {
			return badRequest("ttl %q: give a duration such as 5m, at most 1h", in.TTL)
		}
		ttl = d
	}
	ctx := r.Context()
	tenant := r.PathValue("tenant")
	if _, err := a.deps.Store.GetTenant(ctx, tenant); err != nil {
		return err
	}
	now := a.deps.Now().UTC()
	// Links never used are cleared as new ones are made.
	if _, err := a.deps.Store.DeleteExpiredUILinks(ctx, now); err != nil {
		a.deps.Logger.WarnContext(ctx, "deleting expired ui links failed", "err", err)
	}
	l := store.UILink{TenantID: tenant, ID: access.NewID("lnk_"), ExpiresAt: now.Add(ttl).Truncate(time.Second), CreatedAt: now}
	if err := a.deps.Store.CreateUILink(ctx, l); err != nil {
		return err
	}
	token, err := a.deps.Signer.SignLink(access.Link{TenantID: tenant, ID: l.ID, ExpiresAt: l.ExpiresAt.Unix()})
	if err != nil {
		return err
	}
	out := UILink{Path: UILinkPath + "?t=" + url.QueryEscape(token), ExpiresAt: l.ExpiresAt}
	if a.deps.PublicURL != "" {
		out.URL = strings.TrimRight(a.deps.PublicURL, "/") + out.Path
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}
