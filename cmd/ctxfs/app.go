package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	ctxfs "github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/local"
	"github.com/ctxfs/ctxfs/inference"
)

// commands holds the constructors of the top-level commands; each command's
// file appends to it from init.
var commands []func(a *app) *cobra.Command

// register adds a top-level command constructor.
func register(c func(a *app) *cobra.Command) { commands = append(commands, c) }

// app is what every command shares: configuration, streams and the
// resources opened for the command, closed when it ends.
type app struct {
	cfg    *viper.Viper
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	closers []func() error
	// sys is the data directory this command opened itself, if any.
	sys *local.System
	// model is the local inference engine of serve --model, if any.
	model *inference.Engine
}

// usageError marks an error in how the command was called (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit status 2).
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// run executes the command line and returns the exit status: 0 on success,
// 1 on an operational error, 2 on a usage error.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{cfg: viper.New(), stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if cerr := a.close(); err == nil {
		err = cerr
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "ctxfs: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// onClose registers fn to run when the command ends, last registered first.
func (a *app) onClose(fn func() error) { a.closers = append(a.closers, fn) }

func (a *app) close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "ctxfs",
		Short: "A versioned, searchable context store for LLM agents, in which everything is a file",
		Long: `ctxfs keeps what agents know, what happened and what each user prefers in one
versioned, searchable namespace, served through a FUSE mount, an MCP server, an
HTTP API and this command line.

The data directory is --data, $CTXFS_DATA, or $XDG_DATA_HOME/ctxfs
(~/.local/share/ctxfs). Configuration comes from flags, CTXFS_* environment
variables and ctxfs.yaml in the data directory (or --config FILE).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q (see ctxfs --help)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.loadConfig(cmd)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.String("data", "", "data directory (default $CTXFS_DATA or $XDG_DATA_HOME/ctxfs)")
	pf.String("config", "", "configuration file (default ctxfs.yaml in the data directory)")
	pf.Duration("lock-timeout", 0, "how long to wait for a data directory in use by another process (default 10s)")
	pf.String("log-level", "warn", "log level: debug, info, warn, error")
	for _, c := range commands {
		root.AddCommand(c(a))
	}
	return root
}

// loadConfig binds the flags, the environment and the config file into
// a.cfg. Precedence: flag, environment (CTXFS_*), file, default.
func (a *app) loadConfig(cmd *cobra.Command) error {
	v := a.cfg
	v.SetEnvPrefix("CTXFS")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_", ".", "_"))
	v.AutomaticEnv()
	v.SetDefault("lock-timeout", "10s")
	var bindErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err := v.BindPFlag(f.Name, f); err != nil {
			bindErr = err
		}
	})
	if bindErr != nil {
		return bindErr
	}
	file := v.GetString("config")
	explicit := file != ""
	if !explicit {
		file = filepath.Join(a.dataDir(), "ctxfs.yaml")
	}
	v.SetConfigFile(file)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		var notFound viper.ConfigFileNotFoundError
		if explicit || !(errors.As(err, &notFound) || errors.Is(err, os.ErrNotExist)) {
			return fmt.Errorf("configuration %s: %w", file, err)
		}
	}
	return nil
}

// dataDir is the data directory: --data, CTXFS_DATA, config, or the XDG default.
func (a *app) dataDir() string {
	if d := a.cfg.GetString("data"); d != "" {
		return d
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "ctxfs")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "ctxfs")
	}
	return filepath.Join(home, ".local", "share", "ctxfs")
}

// printJSON writes v as indented JSON followed by a newline.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parsePath parses a command-line path argument; a bad path is an
// operational error with the parser's message, so it exits 1 like other
// rejected input that reached the store.
func parsePath(s string) (ctxfs.Path, error) {
	return ctxfs.Parse(s)
}

// exactArgs is cobra.ExactArgs reporting a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d (see --help)", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs reporting a usage error.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usagef("%s takes %d to %d arguments, got %d (see --help)", cmd.CommandPath(), lo, hi, len(args))
		}
		return nil
	}
}
