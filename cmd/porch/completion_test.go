package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompletionUsage(t *testing.T) {
	if code, out, errs := porchCmd("help", "completion"); code != 0 || !strings.Contains(out, "Usage: porch completion bash|zsh|fish") || errs != "" {
		t.Errorf("help completion: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		if code, out, errs := porchCmd(args...); code != 2 || out != "" || !strings.Contains(errs, "Usage: porch completion") {
			t.Errorf("porch %s: exit %d, stdout %q, stderr %q; want 2 and the usage on stderr", strings.Join(args, " "), code, out, errs)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, errs := porchCmd("completion", sh)
		if code != 0 || errs != "" {
			t.Fatalf("completion %s: exit %d, stderr %q", sh, code, errs)
		}
		// Every command and a flag of a subcommand are in each script.
		for _, want := range []string{"archive", "check-config", "send-test", "deadletters", "interview-id", "allow-dev-secrets"} {
			if !strings.Contains(out, want) {
				t.Errorf("completion %s: no %q in\n%s", sh, want, out)
			}
		}
		if strings.Contains(out, "interview_id") {
			t.Errorf("completion %s offers the hidden alias --interview_id", sh)
		}
		if path, err := exec.LookPath(sh); err == nil && sh != "bash" {
			script := filepath.Join(t.TempDir(), "porch."+sh)
			if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command(path, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n rejects the script: %v\n%s", sh, err, b)
			}
		}
	}
}

// TestBashCompletion sources the bash script and calls its completion
// function the way bash does on TAB.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	_, script, _ := porchCmd("completion", "bash")
	path := filepath.Join(t.TempDir(), "porch.bash")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		line string // words typed so far; a trailing space starts an empty word
		want string
	}{
		{"porch ar", "archive"},
		{"porch ch", "check-config"},
		{"porch --ver", "--version"},
		{"porch archive l", "ls"},
		{"porch archive ls --li", "--limit"},
		{"porch archive ls --interview", "--interview-id"},
		{"porch deadletters replay --rea", "--reason"},
		{"porch serve --allow", "--allow-dev-secrets"},
		{"porch help arch", "archive"},
		{"porch help deadletters ", "ls replay abandon"},
		{"porch deadletters abandon --de", "--destination"},
		{"porch completion ", "bash zsh fish --help"},
	} {
		prog := `source "$1"; read -ra COMP_WORDS <<<"$2"; [[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _porch; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, "-c", prog, "bash", path, tt.line).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tt.want {
			t.Errorf("%q<TAB>: %v %q, want %q", tt.line, err, got, tt.want)
		}
	}
}
