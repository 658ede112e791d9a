// Command accord runs the Accord integration engine. See `accord help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/accordhq/accord/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], &cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.LookupEnv})
	stop()
	os.Exit(code)
}
