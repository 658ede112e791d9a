package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
)

func init() {
	register(&command{
		name:    "migrate",
		summary: "apply database migrations (Accord's and the job queue's) and exit",
		usage:   "[--db DSN]",
		flags:   []string{"db", "config", "log-level", "log-format"},
		example: "accord migrate --db postgres://postgres@127.0.0.1:5432/accord",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			loader := config.Bind(fs)
			loader.Env = env.Getenv
			return func(ctx context.Context, args []string) error {
				cfg, logger, err := loadConfig(loader, env)
				if err != nil {
					return err
				}
				if err := app.Migrate(ctx, cfg, logger); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "migrations applied to %s\n", cfg.Describe()["db"])
				return nil
			}
		},
	})
}
