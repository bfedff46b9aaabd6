package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand. run returns the process exit code: 0 ok,
// 1 failed, 2 bad usage or config. subs names the subcommands run
// dispatches on (archive ls, ...), for help and shell completion.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	subs    []string
}

// commands is the table of subcommands.
var commands = map[string]command{}

// register adds a command to the table; subs are its subcommands, if it
// has any.
func register(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) int, subs ...string) {
	commands[name] = command{summary: summary, run: run, subs: subs}
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args to a subcommand. Help goes to stdout and exits 0;
// no arguments or an unknown command print the usage on stderr and exit 2.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "-version", "--version":
		return runVersion(ctx, args[1:], stdout, stderr)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "porch: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

// runHelp is `porch help [COMMAND [SUBCOMMAND]]`: the command's own
// --help, or the list of commands.
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		usage(stdout)
		return 0
	}
	if _, ok := commands[args[0]]; !ok || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "porch help: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return run(ctx, append(append([]string(nil), args...), "--help"), stdout, stderr)
}

func init() {
	register("help", "show the commands, or a command's flags (porch help COMMAND)", runHelp)
}

// commandNames is the table's names, sorted.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	names := commandNames()
	var b strings.Builder
	b.WriteString("porch: a webhook ingestion gateway for Koji and Gather.\n\nUsage: porch <command> [flags]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-14s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nFlags:\n  --help         show this help\n  --version      print the version\n")
	b.WriteString("\nRun 'porch help <command>' or 'porch <command> --help' for a command's flags.\n")
	fmt.Fprint(w, b.String())
}
