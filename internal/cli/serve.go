package cli

import (
	"context"
	"flag"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "run Accord: HTTP, workers and schedules (or one role of them)",
		usage:   "[flags]",
		example: "accord serve --db sqlite:accord.db --addr 127.0.0.1:8080 --role all",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			loader := config.Bind(fs)
			loader.Env = env.Getenv
			return func(ctx context.Context, args []string) error {
				cfg, logger, err := loadConfig(loader, env)
				if err != nil {
					return err
				}
				a, err := app.New(ctx, cfg, logger, &app.Options{Build: BuildInfo()})
				if err != nil {
					return err
				}
				return a.Run(ctx)
			}
		},
	})
}
