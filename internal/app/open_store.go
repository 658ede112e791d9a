package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
	"github.com/accordhq/accord/internal/store/sqlite"
)

// OpenStore opens the database named by cfg.DB.
func OpenStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (store.Store, error) {
	dialect, target, err := config.ParseDB(cfg.DB)
	if err != nil {
		return nil, err
	}
	switch dialect {
	case "sqlite":
		if dir := filepath.Dir(target); target != ":memory:" && !strings.HasPrefix(target, "file:") {
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return nil, fmt.Errorf("opening sqlite database %s: directory %s does not exist: create it, or point --db (db in accord.yaml) elsewhere", target, dir)
			}
		}
		st, err := sqlite.Open(ctx, target, &sqlite.Config{Synchronous: sqlite.Synchronous(strings.ToUpper(cfg.SQLiteSynchronous)), Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("opening sqlite: %w", err)
		}
		return st, nil
	default:
		// River holds one connection for LISTEN and the ingress commits on
		// several at once: pgxpool's default of max(4, cores) starves them.
		st, err := postgres.Open(ctx, target, &postgres.Config{Logger: logger, MaxConns: 32})
		if err != nil {
			return nil, fmt.Errorf("opening postgres: %w", err)
		}
		return st, nil
	}
}
