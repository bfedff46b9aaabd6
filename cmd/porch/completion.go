package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

func init() {
	register("completion", "print a shell completion script: porch completion bash|zsh|fish", runCompletion, "bash", "zsh", "fish")
}

const completionUsage = `Usage: porch completion bash|zsh|fish

Prints a script that completes porch's commands, subcommands and flags.

  bash   source <(porch completion bash)     e.g. in ~/.bashrc
  zsh    source <(porch completion zsh)      after compinit, e.g. in ~/.zshrc
  fish   porch completion fish | source      e.g. in ~/.config/fish/config.fish
`

func runCompletion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && isHelp(args[0]) {
		fmt.Fprint(stdout, completionUsage)
		return 0
	}
	if len(args) != 1 {
		fmt.Fprint(stderr, completionUsage)
		return 2
	}
	write := map[string]func(io.Writer, []compCommand){"bash": writeBash, "zsh": writeZsh, "fish": writeFish}[args[0]]
	if write == nil {
		fmt.Fprintf(stderr, "porch completion: unknown shell %q (bash, zsh or fish)\n\n%s", args[0], completionUsage)
		return 2
	}
	write(stdout, completionTree(ctx))
	return 0
}

// compCommand is what completion offers after a command (or after a
// command and one of its subcommands, path "archive ls").
type compCommand struct {
	path    string // "serve", "archive ls"
	summary string
	words   []string // subcommands or positional words (help, completion)
	flags   []compFlag
}

// compFlag is a flag as help shows it; value flags take an argument.
type compFlag struct {
	name  string
	value bool
}

// completionTree lists every command and subcommand with its flags. The
// flags are read from each one's own --help output, the printer of
// flags.go, so the scripts cannot drift from what the commands accept.
func completionTree(ctx context.Context) []compCommand {
	names := commandNames()
	var tree []compCommand
	for _, n := range names {
		c := commands[n]
		cc := compCommand{path: n, summary: c.summary, words: c.subs}
		switch n {
		case "help":
			cc.words = names
		case "completion":
		default:
			if len(c.subs) == 0 {
				cc.flags = helpFlags(ctx, n)
			}
		}
		if !slices.Contains(cc.flags, compFlag{name: "help"}) {
			cc.flags = append(cc.flags, compFlag{name: "help"})
		}
		tree = append(tree, cc)
		if n == "completion" {
			continue
		}
		for _, s := range c.subs {
			tree = append(tree, compCommand{path: n + " " + s, flags: helpFlags(ctx, n, s)})
		}
	}
	return tree
}

// helpFlags runs `porch PATH... --help` and collects the flags it lists.
func helpFlags(ctx context.Context, path ...string) []compFlag {
	var out bytes.Buffer
	run(ctx, append(path, "--help"), &out, io.Discard)
	var flags []compFlag
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f, ok := strings.CutPrefix(sc.Text(), "  --")
		if !ok {
			continue
		}
		name, arg, _ := strings.Cut(f, " ")
		flags = append(flags, compFlag{name: name, value: arg != ""})
	}
	return flags
}

// candidates is what to offer after c: its words, then its flags.
func (c compCommand) candidates() []string {
	out := append([]string(nil), c.words...)
	for _, f := range c.flags {
		out = append(out, "--"+f.name)
	}
	return out
}

// valueFlags is every flag, of any command, that takes a value: after one
// of them the shell completes file names instead of flags.
func valueFlags(tree []compCommand) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range tree {
		for _, f := range c.flags {
			if f.value && !seen[f.name] {
				seen[f.name] = true
				out = append(out, "--"+f.name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// casePattern is the bash and zsh case pattern for "position:word1:word2"
// that selects c's candidates: its subcommands right after it, else its
// flags anywhere after it.
func casePattern(c compCommand) string {
	cmd, sub, hasSub := strings.Cut(c.path, " ")
	switch {
	case hasSub:
		return fmt.Sprintf("*:%s:%s", cmd, sub)
	case len(c.words) > 0:
		return fmt.Sprintf("2:%s:*", cmd)
	}
	return fmt.Sprintf("*:%s:*", cmd)
}

// topWords are the candidates right after porch.
func topWords(tree []compCommand) []string {
	var out []string
	for _, c := range tree {
		if !strings.Contains(c.path, " ") {
			out = append(out, c.path)
		}
	}
	return append(out, "--help", "--version")
}

// caseArms writes the case arms shared by the bash and zsh scripts: the
// position of the word being completed, and the two words after porch,
// choose the candidates.
func caseArms(w io.Writer, tree []compCommand, assign string) {
	fmt.Fprintf(w, "    1:*) %s ;;\n", fmt.Sprintf(assign, strings.Join(topWords(tree), " ")))
	for _, c := range tree {
		if c.path == "help" || c.path == "completion" {
			fmt.Fprintf(w, "    2:%s:*) %s ;;\n", c.path, fmt.Sprintf(assign, strings.Join(c.candidates(), " ")))
			continue
		}
		fmt.Fprintf(w, "    %s) %s ;;\n", casePattern(c), fmt.Sprintf(assign, strings.Join(c.candidates(), " ")))
	}
	// porch help archive <TAB>: the subcommands.
	for _, c := range tree {
		if !strings.Contains(c.path, " ") && len(c.words) > 0 && c.path != "help" && c.path != "completion" {
			fmt.Fprintf(w, "    3:help:%s) %s ;;\n", c.path, fmt.Sprintf(assign, strings.Join(c.words, " ")))
		}
	}
}

func writeBash(w io.Writer, tree []compCommand) {
	fmt.Fprint(w, `# bash completion for porch, printed by "porch completion bash".
# Load it with: source <(porch completion bash)
_porch() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} words=""
    COMPREPLY=()
    # After a flag that takes a value, complete file names (-o default).
    case "$prev" in
`)
	fmt.Fprintf(w, "    %s) return ;;\n    esac\n", strings.Join(valueFlags(tree), "|"))
	fmt.Fprint(w, `    case "$COMP_CWORD:${COMP_WORDS[1]}:${COMP_WORDS[2]}" in
`)
	caseArms(w, tree, `words="%s"`)
	fmt.Fprint(w, `    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _porch porch
`)
}

func writeZsh(w io.Writer, tree []compCommand) {
	fmt.Fprint(w, `#compdef porch
# zsh completion for porch, printed by "porch completion zsh".
# Load it with: source <(porch completion zsh) after compinit, or save it
# as _porch in a directory of $fpath.
_porch() {
    local -a w
    case "${words[CURRENT-1]}" in
`)
	fmt.Fprintf(w, "    %s) _files; return ;;\n    esac\n", strings.Join(valueFlags(tree), "|"))
	fmt.Fprint(w, `    case "$((CURRENT-1)):${words[2]}:${words[3]}" in
`)
	caseArms(w, tree, `w=(%s)`)
	fmt.Fprint(w, `    esac
    if (( ${#w} )); then
        compadd -a w
    else
        _files
    fi
}
if [ "$funcstack[1]" = "_porch" ]; then
    _porch "$@"
else
    compdef _porch porch
fi
`)
}

func writeFish(w io.Writer, tree []compCommand) {
	fmt.Fprint(w, `# fish completion for porch, printed by "porch completion fish".
# Load it with: porch completion fish | source
complete -c porch -f
complete -c porch -n __fish_use_subcommand -l help -d 'show help'
complete -c porch -n __fish_use_subcommand -l version -d 'print the version'
`)
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
	for _, c := range tree {
		cmd, sub, hasSub := strings.Cut(c.path, " ")
		cond := "__fish_seen_subcommand_from " + cmd
		if hasSub {
			cond += "; and __fish_seen_subcommand_from " + sub
		} else {
			fmt.Fprintf(w, "complete -c porch -n __fish_use_subcommand -a %s -d %s\n", cmd, q(c.summary))
			if len(c.words) > 0 {
				fmt.Fprintf(w, "complete -c porch -n %s -a %s\n",
					q(cond+"; and not __fish_seen_subcommand_from "+strings.Join(c.words, " ")), q(strings.Join(c.words, " ")))
			}
		}
		for _, f := range c.flags {
			opt := ""
			if f.value {
				opt = " -r -F"
			}
			fmt.Fprintf(w, "complete -c porch -n %s -l %s%s\n", q(cond), f.name, opt)
		}
	}
}
