package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/registration"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// newOAuthManager builds the connection lifecycle manager from the loaded
// providers. Its connect-session key is derived from the master key, so
// every process of a deployment accepts the others' sessions.
func newOAuthManager(cfg *config.Config, logger *slog.Logger, a *App, mk credential.MasterKey, now func() time.Time,
	lookupEnv func(string) (string, bool)) (*oauth.Manager, error) {
	providers := make([]*oauth.ProviderConfig, 0, len(a.Catalog.Providers))
	for _, p := range a.Catalog.Providers {
		pc, err := oauth.ConfigFromManifest(p, lookupEnv)
		if errors.Is(err, oauth.ErrMissingEnv) && !usedByContract(a.Catalog.Versions, p.Name) {
			// A catalog provider (packs/catalog) that no loaded contract
			// uses: its OAuth client is set up when a contract needs it.
			// Until then connecting to it fails with ErrUnknownProvider.
			logger.Info("provider left out of the connect flow: its OAuth client is not configured",
				"provider", p.Name, "reason", err.Error())
			continue
		}
		if err != nil {
			return nil, err
		}
		providers = append(providers, pc)
	}
	sessionKey, err := oauth.SessionKeyFromMaster(mk.Key)
	if err != nil {
		return nil, err
	}
	baseURL := cfg.PublicURL
	if baseURL == "" {
		baseURL = "http://" + cfg.Addr
	}
	m, err := oauth.NewManager(a.Store, a.Vault, providers, &oauth.Config{
		BaseURL: baseURL, SessionKey: sessionKey, Logger: logger, Registerer: a.Registry, Now: now,
		Outbound:      &connector.Config{AllowLoopback: cfg.AllowLoopbackPartners},
		OnStateChange: a.resumeConnection, OnOperatorAlert: a.operatorAlert})
	if err != nil {
		return nil, fmt.Errorf("building oauth manager: %w", err)
	}
	return m, nil
}

// resumeConnection tells the engine a connection's state changed (OAuth
// connect, reconnect or pause; an admin retry lifting missing_scopes): one
// that is active again has its paused deliveries run now. The OAuth manager
// is built before the engine, so a.Engine is read at call time; no call
// comes before New returns (nothing serves or works until Start).
func (a *App) resumeConnection(ctx context.Context, c store.Connection) {
	if a.Ingress != nil {
		// Webhooks of a connection that was just disconnected are refused
		// from the next request on, not after the ingress cache expires.
		a.Ingress.Forget(c.ID)
	}
	if p := a.Catalog.Providers[c.Provider]; c.State == store.ConnectionActive && a.Queue != nil && registration.Declared(p) {
		// A connection revived after a disconnect deleted its partner
		// subscription is subscribed again for its installations; one
		// still subscribed is left alone by the job.
		if _, err := a.Queue.Insert(context.WithoutCancel(ctx), registration.ResubscribeArgs{TenantID: c.TenantID, ConnectionID: c.ID}, nil); err != nil {
			a.logger.WarnContext(ctx, "could not queue the webhook subscription of a reconnected connection",
				"tenant_id", c.TenantID, "connection_id", c.ID, "error", err)
		}
	}
	if a.Engine == nil {
		return
	}
	// The state change is committed: finish even if the caller's request
	// ends.
	if err := a.Engine.ResumeConnection(context.WithoutCancel(ctx), c); err != nil {
		a.logger.WarnContext(ctx, "resuming connection's paused work failed; it resumes on its next pause tick",
			"tenant_id", c.TenantID, "connection_id", c.ID, "error", err)
	}
}

// operatorAlert raises a token endpoint's refusal of Accord's own client
// (or its failure) as an operator alert: no tenant is named, because no
// tenant has to act, and no connection changes state. The alerter is built
// after the OAuth manager, so it is read at call time.
func (a *App) operatorAlert(ctx context.Context, al oauth.OperatorAlert) {
	if a.alerter == nil {
		a.logger.ErrorContext(ctx, "operator alert", "provider", al.Provider, "message", al.Message)
		return
	}
	a.alerter.Raise(ctx, engine.Alert{Class: "operator", Message: al.Message,
		Remediation: "Fix the OAuth client of provider " + al.Provider + " (client_id_env, client_secret_env, the client authentication method) or wait for the provider to recover; tenants' connections stay active and their writes are retried.",
		At:          al.At})
}

// usedByContract reports whether any loaded contract version names provider.
func usedByContract(versions map[string]map[string]*spec.Contract, provider string) bool {
	for _, byVersion := range versions {
		for _, c := range byVersion {
			if slices.Contains(c.Providers, provider) {
				return true
			}
		}
	}
	return false
}
