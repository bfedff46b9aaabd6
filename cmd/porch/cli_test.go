package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

const exampleConfig = "../../config.example.yaml"

// porchCmd runs the whole command line as main does.
func porchCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpGoesToStdout(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "Usage: porch <command>"},
		{[]string{"-h"}, "Usage: porch <command>"},
		{[]string{"help"}, "Usage: porch <command>"},
		{[]string{"help", "help"}, "Usage: porch <command>"},
		{[]string{"serve", "--help"}, "Usage: porch serve --config FILE"},
		{[]string{"serve", "-help"}, "Usage: porch serve --config FILE"},
		{[]string{"help", "serve"}, "Usage: porch serve --config FILE"},
		{[]string{"help", "archive"}, "Usage: porch archive <ls|show|raw|export|verify>"},
		{[]string{"archive", "--help"}, "Usage: porch archive <ls|show|raw|export|verify>"},
		{[]string{"help", "archive", "ls"}, "Usage: porch archive ls"},
		{[]string{"archive", "help", "ls"}, "Usage: porch archive ls"},
		{[]string{"archive", "ls", "--help"}, "Usage: porch archive ls"},
		{[]string{"help", "deadletters", "replay"}, "Usage: porch deadletters replay"},
		{[]string{"deadletters", "help"}, "Usage: porch deadletters <ls|replay|abandon>"},
		{[]string{"help", "deadletters", "abandon"}, "Usage: porch deadletters abandon --destination NAME --reason TEXT"},
		{[]string{"help", "version"}, "Usage: porch version"},
	} {
		code, out, errs := porchCmd(tt.args...)
		if code != 0 || !strings.Contains(out, tt.want) || errs != "" {
			t.Errorf("porch %s: exit %d, stdout %q, stderr %q; want 0, %q on stdout, nothing on stderr",
				strings.Join(tt.args, " "), code, out, errs, tt.want)
		}
	}
}

func TestUsageErrorsGoToStderr(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "Usage: porch <command>"},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"help", "nope"}, `porch help: unknown command "nope"`},
		{[]string{"archive"}, "Usage: porch archive"},
	} {
		code, out, errs := porchCmd(tt.args...)
		if code != 2 || out != "" || !strings.Contains(errs, tt.want) {
			t.Errorf("porch %s: exit %d, stdout %q, stderr %q; want 2 and %q on stderr",
				strings.Join(tt.args, " "), code, out, errs, tt.want)
		}
	}
}

// helpPaths is every command and subcommand, as help takes them.
func helpPaths() [][]string {
	var paths [][]string
	for _, n := range commandNames() {
		paths = append(paths, []string{n})
		if n == "completion" {
			continue
		}
		for _, s := range commands[n].subs {
			paths = append(paths, []string{n, s})
		}
	}
	return paths
}

// TestHelpShowsDoubleDashFlags checks that no help lists a flag as -flag,
// as flag.PrintDefaults would, or a flag with an underscore.
func TestHelpShowsDoubleDashFlags(t *testing.T) {
	single := regexp.MustCompile(`(?m)^\s+-[a-z]`)
	for _, p := range helpPaths() {
		code, out, _ := porchCmd(append(p, "--help")...)
		if code != 0 {
			t.Errorf("porch %s --help: exit %d", strings.Join(p, " "), code)
		}
		if single.MatchString(out) || regexp.MustCompile(`(?m)^  --\S*_`).MatchString(out) {
			t.Errorf("porch %s --help lists -flag or snake_case flags:\n%s", strings.Join(p, " "), out)
		}
	}
	_, out, _ := porchCmd("archive", "ls", "--help")
	if !strings.Contains(out, "  --interview-id ID") || strings.Contains(out, "--interview_id") || strings.Contains(out, "  --interview ") {
		t.Errorf("archive ls --help shows its old flag names or not --interview-id:\n%s", out)
	}
	if !strings.Contains(out, `(default "http://127.0.0.1:8081")`) {
		t.Errorf("archive ls --help does not show --admin-url's default:\n%s", out)
	}
}

func TestHiddenAliasSetsTheFlag(t *testing.T) {
	for _, args := range [][]string{{"--interview-id", "iv"}, {"--interview_id", "iv"}, {"-interview", "iv"}, {"--interview_id=iv"}} {
		fs := newFlags("x", "", io.Discard, io.Discard)
		iv := fs.String("interview-id", "", "")
		aliasFlag(fs, "interview_id", "interview-id")
		aliasFlag(fs, "interview", "interview-id")
		if err := parse(fs, args); err != nil || *iv != "iv" {
			t.Errorf("%v: err %v, --interview-id %q", args, err, *iv)
		}
	}
	fs := newFlags("x", "", io.Discard, io.Discard)
	v := fs.Bool("verbose", false, "")
	aliasFlag(fs, "verbose_old", "verbose")
	if err := parse(fs, []string{"--verbose_old"}); err != nil || !*v {
		t.Errorf("a boolean alias without a value: err %v, value %v", err, *v)
	}
}

// TestBadFlagValuesExit2 gives each command a value it cannot use: each
// must exit 2 before doing anything, with "porch CMD: --flag: ..." or
// "porch CMD: unknown flag --flag".
func TestBadFlagValuesExit2(t *testing.T) {
	t.Setenv("PORCH_AUDITOR_TOKEN", "auditor-t")
	t.Setenv("PORCH_ADMIN_TOKEN", "admin-t")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"archive", "ls", "--limit", "abc"}, "porch archive ls: --limit: "},
		{[]string{"archive", "ls", "-limit", "0"}, "porch archive ls: --limit: "},
		{[]string{"archive", "ls", "--limit", "1001"}, "porch archive ls: --limit: "},
		{[]string{"archive", "ls", "--status", "gone"}, "porch archive ls: --status: "},
		{[]string{"archive", "ls", "--since", "yesterday"}, "porch archive ls: --since: "},
		{[]string{"archive", "ls", "--until", "2026-13-45"}, "porch archive ls: --until: "},
		{[]string{"archive", "ls", "--cursor", "page2"}, "porch archive ls: --cursor: "},
		{[]string{"archive", "ls", "--duplicate-of", "01ARZ3"}, "porch archive ls: --duplicate-of: "},
		{[]string{"archive", "ls", "--json=maybe"}, "porch archive ls: --json: "},
		{[]string{"archive", "ls", "--admin-url", "localhost:8081"}, "porch archive ls: --admin-url: "},
		{[]string{"archive", "ls", "--bogus"}, "porch archive ls: unknown flag --bogus"},
		{[]string{"archive", "export", "--since", "noon"}, "porch archive export: --since: "},
		{[]string{"archive", "show", "ID", "--admin-url", "ftp://x"}, "porch archive show: --admin-url: "},
		{[]string{"deadletters", "ls", "--limit", "many"}, "porch deadletters ls: --limit: "},
		{[]string{"deadletters", "ls", "--limit", "-1"}, "porch deadletters ls: --limit: "},
		{[]string{"deadletters", "ls", "--until", "later"}, "porch deadletters ls: --until: "},
		{[]string{"deadletters", "replay", "--reason", "r", "--since", "x"}, "porch deadletters replay: --since: "},
		{[]string{"replay", "ID", "--reason", "r", "--admin-url", "x"}, "porch replay: --admin-url: "},
		{[]string{"bench", "--duration", "ten"}, "porch bench: --duration: "},
		{[]string{"bench", "--concurrency", "0", "--config", exampleConfig}, "porch bench: --concurrency: "},
		{[]string{"bench", "--config", exampleConfig, "--url", "127.0.0.1:8080"}, "porch bench: --url: "},
		{[]string{"bench", "--config", exampleConfig, "--pid", "-4"}, "porch bench: --pid: "},
		{[]string{"sink", "--config", exampleConfig, "--status", "7"}, "porch sink: --status: "},
		{[]string{"sink", "--config", exampleConfig, "--status", "ok"}, "porch sink: --status: "},
		{[]string{"send-test", "--config", exampleConfig, "--source", "koji", "--url", "nowhere"}, "porch send-test: --url: "},
		{[]string{"send-test", "--config", exampleConfig, "--source", "nope"}, "porch send-test: --source: "},
		{[]string{"backup", "--out", "x", "--admin-url", "nowhere"}, "porch backup: --admin-url: "},
		{[]string{"backup", "--out", "x", "--config", "/nonexistent/porch.yaml"}, "porch backup: --config: "},
		{[]string{"bench", "--config", "/nonexistent/porch.yaml"}, "porch bench: --config: "},
		{[]string{"bench", "--config", exampleConfig, "--sink", "3000"}, "porch bench: --sink: "},
		{[]string{"sink", "--config", exampleConfig, "--listen", "localhost"}, "porch sink: --listen: "},
		{[]string{"archive", "verify", "--file", "/nonexistent/export.ndjson"}, "porch archive verify: --file: "},
		{[]string{"serve", "--config"}, "porch serve: --config: needs a value"},
		{[]string{"check-config", "--config", "/nonexistent/porch.yaml"}, "porch check-config: --config: "},
		{[]string{"version", "--short"}, "porch version: unknown flag --short"},
	} {
		code, _, errs := porchCmd(tt.args...)
		if code != 2 || !strings.HasPrefix(errs, tt.want) {
			t.Errorf("porch %s: exit %d, stderr %q; want 2 and %q", strings.Join(tt.args, " "), code, errs, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := porchCmd(args...)
		if code != 0 || !strings.HasPrefix(out, "porch ") || errs != "" {
			t.Errorf("porch %s: exit %d, stdout %q, stderr %q", args[0], code, out, errs)
		}
	}
}
