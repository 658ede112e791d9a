package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/accordhq/accord/internal/telemetry"
)

// Version is set at link time: -ldflags "-X github.com/accordhq/accord/internal/cli.Version=v1.0.0".
var Version = "dev"

func init() {
	register(&command{
		name:    "version",
		summary: "print the version of this binary",
		example: "accord version",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			return func(ctx context.Context, args []string) error {
				b := BuildInfo()
				fmt.Fprintf(env.Stdout, "accord %s (commit %s, %s)\n", b.Version, b.Commit, runtime.Version())
				return nil
			}
		},
	})
}

// BuildInfo returns the version and VCS commit of this binary.
func BuildInfo() telemetry.Build {
	b := telemetry.Build{Version: Version, Commit: "unknown"}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				b.Commit = s.Value
			}
		}
		if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
	}
	return b
}
