package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/porchgw/porch/admin"
)

// newFlags builds a command's flag set. --help prints the usage line and
// the flags, written --flag, on stdout; errors go to stderr (fs.Output()).
// Flags are accepted with one dash or two, as the flag package does.
func newFlags(name, usage string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		if c, ok := commands[name]; ok {
			fmt.Fprintf(stdout, "porch %s: %s\n\n", name, c.summary)
		}
		fmt.Fprintf(stdout, "Usage: porch %s %s\n\nFlags:\n", name, usage)
		printFlags(stdout, fs)
	}
	return fs
}

// printFlags writes fs's flags as --name TYPE and an indented description
// with the default when it is not the zero value; hidden aliases are left
// out. It replaces flag.PrintDefaults, which writes -name.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if _, hidden := f.Value.(hiddenAlias); hidden {
			return
		}
		arg, help := flag.UnquoteUsage(f)
		if p := placeholders[f.Name]; arg == "string" && p != "" {
			arg = p
		}
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		switch f.DefValue {
		case "", "0", "false", "0s":
		default:
			if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
				help += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				help += fmt.Sprintf(" (default %s)", f.DefValue)
			}
		}
		fmt.Fprintf(w, "%s\n        %s\n", line, help)
	})
	fmt.Fprintf(w, "  --help\n        show this help\n")
}

// placeholders name the value of common string flags in help, where the
// flag package would say "string".
var placeholders = map[string]string{
	"admin-url": "URL", "url": "URL", "token": "TOKEN",
	"config": "FILE", "out": "FILE", "in": "FILE", "file": "FILE", "data-dir": "DIR",
	"since": "TIME", "until": "TIME", "listen": "ADDR", "sink": "ADDR",
	"cursor": "ID", "interview-id": "ID", "limit": "N", "reason": "TEXT",
	"source": "NAME", "destination": "NAME", "event": "TYPE",
}

// hiddenAlias is a flag's old name: it sets the same value as the
// current name but help and completion leave it out.
type hiddenAlias struct{ flag.Value }

// IsBoolFlag lets a boolean alias be given without a value, like its flag.
func (h hiddenAlias) IsBoolFlag() bool {
	b, ok := h.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// aliasFlag makes old a hidden second name for the defined flag name, so a
// renamed flag keeps working.
func aliasFlag(fs *flag.FlagSet, old, name string) {
	fs.Var(hiddenAlias{fs.Lookup(name).Value}, old, "alias of --"+name)
}

// parse parses args into fs. On --help it prints the help on stdout and
// returns flag.ErrHelp; on a bad flag it writes one line naming the flag
// (as --flag) to stderr instead of the flag package's message and usage.
func parse(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
	case err != nil:
		fmt.Fprintf(out, "porch %s: %s\nRun 'porch %s --help' for its flags.\n", fs.Name(), flagError(fs, err), fs.Name())
	}
	return err
}

// flagErrors match the flag package's messages, which name a flag -name.
var flagErrors = []struct {
	re   *regexp.Regexp
	with string
	name int // the submatch that is the flag's name
}{
	{regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-(\S+): (.*)$`), "--$2: invalid value $1: $3", 2},
	{regexp.MustCompile(`^flag provided but not defined: -(\S+)$`), "unknown flag --$1", 1},
	{regexp.MustCompile(`^flag needs an argument: -(\S+)$`), "--$1: needs a value", 1},
}

// flagError rewrites a flag package error so that it names the flag the
// way help shows it, and says what a number or duration flag wants
// instead of the flag package's bare "parse error".
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	for _, fe := range flagErrors {
		if !fe.re.MatchString(msg) {
			continue
		}
		msg = fe.re.ReplaceAllString(msg, fe.with)
		name := fe.re.FindStringSubmatch(err.Error())[fe.name]
		if f := fs.Lookup(name); f != nil && strings.HasSuffix(msg, ": parse error") {
			if arg, _ := flag.UnquoteUsage(f); wants[arg] != "" {
				msg = strings.TrimSuffix(msg, "parse error") + "want " + wants[arg]
			}
		}
		return msg
	}
	return msg
}

// wants says what the flag package's typed flags accept.
var wants = map[string]string{
	"duration": "a duration such as 90s, 5m or 2h",
	"int":      "a whole number",
	"uint":     "a whole number",
	"float":    "a number such as 0.1",
	"":         "true or false", // a boolean flag given as --flag=value
}

// parseFlags parses args; ok is false when the command should exit with
// code (0 after --help, 2 after a bad flag or a stray argument).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := parse(fs, args); err != nil {
		return helpCode(err), false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "porch %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

// helpCode is the exit code after a parse error: 0 for --help, else 2.
func helpCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// badFlag reports an unusable flag value for command cmd as
// "porch CMD: --flag: message" and returns exit code 2.
func badFlag(stderr io.Writer, cmd, name, format string, a ...any) int {
	fmt.Fprintf(stderr, "porch %s: --%s: %s\n", cmd, name, fmt.Sprintf(format, a...))
	return 2
}

// checkTime is nil when s is empty or a time the admin API takes for
// since and until.
func checkTime(s string) error {
	_, err := admin.ParseTime(s)
	return err
}

// checkURLFlag is nil when s is an absolute http or https URL.
func checkURLFlag(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL, e.g. http://127.0.0.1:8081", s)
	}
	return nil
}

// checkListenFlag is nil when s is a host:port to listen on.
func checkListenFlag(s string) error {
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		return fmt.Errorf("%q is not a host:port to listen on, e.g. 127.0.0.1:3000", s)
	}
	return nil
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
	return loadWith(fs, path, args, LoadConfig)
}

// loadConfigFlagNoStore is loadConfigFlag for the commands that never
// open the store: see loadConfigNoStore.
func loadConfigFlagNoStore(fs *flag.FlagSet, path *string, args []string) (cfg *Config, code int, ok bool) {
	return loadWith(fs, path, args, loadConfigNoStore)
}

func loadWith(fs *flag.FlagSet, path *string, args []string, load func(string) (*Config, error)) (cfg *Config, code int, ok bool) {
	if code, ok := parseFlags(fs, args); !ok {
		return nil, code, false
	}
	if *path == "" {
		fmt.Fprintf(fs.Output(), "porch %s: --config is required\n", fs.Name())
		return nil, 2, false
	}
	cfg, err := load(*path)
	if errors.Is(err, iofs.ErrNotExist) {
		fmt.Fprintf(fs.Output(), "porch %s: --config: %s: no such file\n", fs.Name(), *path)
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

// isHelp reports whether arg asks for help, as a flag or a word.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}
