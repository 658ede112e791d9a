package cli

import (
	"log/slog"

	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/telemetry"
	"io"
	"sort"
	"strings"
)

// command is one accord subcommand.
type command struct {
	name    string
	summary string
	// usage is the argument synopsis after the command name.
	usage string
	// flags, when set, are the only flags its --help lists: a command that
	// binds the whole process config (to read --config and the environment)
	// still shows the few settings it uses.
	flags []string
	// example shows one typical call.
	example string
	// setup registers the command's flags on fs and returns what runs it
	// with the arguments left after flag parsing.
	setup func(fs *flag.FlagSet, env *Env) runFunc
}

type runFunc func(ctx context.Context, args []string) error

// Env is what a command reads and writes besides its arguments.
type Env struct {
	Stdout, Stderr io.Writer
	// Getenv looks up environment variables (os.LookupEnv in main).
	Getenv func(string) (string, bool)
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("cli: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// ExitError carries a process exit code without printing anything more:
// the command already said what went wrong.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Run executes the command named by args[0] and returns the exit code.
func Run(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fs := newFlagSet(c, env)
				c.setup(fs, env)
				printCommandHelp(env.Stdout, c, fs)
				return 0
			}
		}
		// Bare `accord` is how a new user asks what it does: the help is
		// the answer, not a usage error.
		printUsage(env.Stdout)
		return 0
	}
	c, ok := lookup(args)
	if !ok {
		fmt.Fprintf(env.Stderr, "accord: unknown command %q\n\n", strings.Join(args[:min(2, len(args))], " "))
		printUsage(env.Stderr)
		return 2
	}
	rest := args[len(strings.Fields(c.name)):]
	fs := newFlagSet(c, env)
	run := c.setup(fs, env)
	err := fs.Parse(rest)
	if err == nil {
		err = run(ctx, fs.Args())
	}
	var exit ExitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &exit):
		return exit.Code
	default:
		fmt.Fprintf(env.Stderr, "accord %s: %v\n", c.name, err)
		return 1
	}
}

// lookup finds the longest command name matching the leading args, so
// "contract lint" wins over a hypothetical "contract".
func lookup(args []string) (*command, bool) {
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c, true
		}
	}
	c, ok := commands[args[0]]
	return c, ok
}

func newFlagSet(c *command, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet("accord "+c.name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { printCommandHelp(env.Stderr, c, fs) }
	return fs
}

func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "accord %s — %s\n\nUsage:\n  accord %s %s\n", c.name, c.summary, c.name, c.usage)
	if c.example != "" {
		fmt.Fprintf(w, "\nExample:\n  %s\n", c.example)
	}
	show := fs
	if len(c.flags) > 0 {
		show = flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		for _, name := range c.flags {
			if f := fs.Lookup(name); f != nil {
				show.Var(f.Value, f.Name, f.Usage)
			}
		}
	}
	var n int
	show.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		show.SetOutput(w)
		show.PrintDefaults()
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "accord — a contract-first integration engine\n\nUsage:\n  accord <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'accord <command> --help' for a command's flags and an example.\n")
}

// loadConfig resolves the process configuration bound on a command's flags
// and builds the logger it asks for.
func loadConfig(loader *config.Loader, env *Env) (*config.Config, *slog.Logger, error) {
	cfg, err := loader.Load()
	if err != nil {
		return nil, nil, err
	}
	return cfg, telemetry.NewLogger(env.Stderr, cfg.LogFormat, cfg.LogLevel), nil
}
