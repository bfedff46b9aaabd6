package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
)

// newFlags builds a command's flag set: errors and --help go to stderr.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: porch %s %s\n\nFlags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; ok is false when the command should exit with
// code (0 after --help, 2 after a bad flag).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0, false
	}
	if err != nil {
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "porch %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

// configFlag adds the --config flag every config-reading command takes.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "config file (required)")
}

// loadConfigFlag parses args into fs and loads the file named by --config.
// ok is false when the command should exit with code: 0 after --help, 2
// after a bad flag, a missing --config or an invalid config (the message,
// naming the flag or YAML key, is already on fs.Output()).
func loadConfigFlag(fs *flag.FlagSet, path *string, args []string) (cfg *Config, code int, ok bool) {
	if code, ok := parseFlags(fs, args); !ok {
		return nil, code, false
	}
	if *path == "" {
		fmt.Fprintf(fs.Output(), "porch %s: --config is required\n", fs.Name())
		return nil, 2, false
	}
	cfg, err := LoadConfig(*path)
	if errors.Is(err, iofs.ErrNotExist) {
		fmt.Fprintf(fs.Output(), "porch %s: --config %s: no such file\n", fs.Name(), *path)
		return nil, 2, false
	}
	if err != nil {
		fmt.Fprintf(fs.Output(), "porch %s: %s is invalid:\n%v\n", fs.Name(), *path, err)
		return nil, 2, false
	}
	return cfg, 0, true
}

// allowDevSecretsFlag adds --allow-dev-secrets: run with the example's
// public secrets even on a listener other hosts can reach.
func allowDevSecretsFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("allow-dev-secrets", false, "start even when the config uses the example's public development secrets on a non-loopback listen or admin_listen address")
}
