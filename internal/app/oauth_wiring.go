package app

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
)

// newOAuthManager builds the connection lifecycle manager from the loaded
// providers. Its connect-session key is derived from the master key, so
// every process of a deployment accepts the others' sessions.
func newOAuthManager(cfg *config.Config, logger *slog.Logger, a *App, mk credential.MasterKey, now func() time.Time) (*oauth.Manager, error) {
	providers := make([]*oauth.ProviderConfig, 0, len(a.Catalog.Providers))
	for _, p := range a.Catalog.Providers {
		pc, err := oauth.ConfigFromManifest(p, os.LookupEnv)
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
		BaseURL: baseURL, SessionKey: sessionKey, Logger: logger, Registerer: a.Registry, Now: now})
	if err != nil {
		return nil, fmt.Errorf("building oauth manager: %w", err)
	}
	return m, nil
}
