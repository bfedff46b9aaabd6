package main

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestExpandEnv(t *testing.T) {
	env := envOf(map[string]string{"A": "alpha", "EMPTY": ""})
	tests := []struct {
		in, want string
		err      error
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-y", want: "x-alpha-y"},
		{in: "${A:-d}", want: "alpha"},
		{in: "${UNSET}", want: ""},
		{in: "${UNSET:-dflt}", want: "dflt"},
		{in: "${UNSET:-}", want: ""},
		{in: "${EMPTY:-dflt}", want: "dflt"}, // like the shell: set but empty uses the default
		{in: "${EMPTY}", want: ""},
		{in: "${UNSET:-a:-b}", want: "a:-b"},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "pa$$word", want: "pa$word"},
		{in: "cost $5", want: "cost $5"},
		{in: "end$", want: "end$"},
		{in: "${A", err: errUnterminated},
		{in: "x ${A:-oops", err: errUnterminated},
		// Nested defaults, braces matched as in the shell.
		{in: "${UNSET:-${A}}", want: "alpha"},
		{in: "${A:-${UNSET}}", want: "alpha"},
		{in: "${UNSET:-${EMPTY:-${A}}}", want: "alpha"},
		{in: "${UNSET:-${UNSET}}", want: ""},
		{in: "${UNSET:-x${A}y}-z", want: "xalphay-z"},
		{in: "${UNSET:-x}y}", want: "xy}"},
		{in: "${UNSET:-$${A}}", want: "${A}"}, // $$ stays a literal $, in a default too
		{in: "${UNSET:-${A}", err: errUnterminated},
		{in: "${UNSET:-${A:-b}", err: errUnterminated},
		{in: strings.Repeat("${U:-", 8) + "deep" + strings.Repeat("}", 8), want: "deep"},
		{in: strings.Repeat("${U:-", 9) + "deep" + strings.Repeat("}", 9), err: errNesting},
		// Other shell forms are refused, never read as a variable name.
		{in: "${A-x}", err: errReference},
		{in: "${A:?unset}", err: errReference},
		{in: "${A:=x}", err: errReference},
		{in: "${${A}}", err: errReference},
		{in: "${1}", err: errReference},
		{in: "${A:-${B-x}}", err: errReference}, // checked even when A is set
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, _, err := expandEnv(tt.in, env)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err: got %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExpandEnvNamesNestedVariables(t *testing.T) {
	_, refs, err := expandEnv("${NEW:-${OLD:-${A}}}", envOf(map[string]string{"A": "alpha"}))
	if want := []string{"NEW", "OLD", "A"}; err != nil || !slices.Equal(refs, want) {
		t.Errorf("got %v, %v, want %v", refs, err, want)
	}
}

// TestNestedDefaultInConfig: a rotation written ${NEW:-${OLD}} takes OLD's
// value, never the text "${OLD}"; with both unset the error names both
// variables and the key.
func TestNestedDefaultInConfig(t *testing.T) {
	text := `sources: [{name: koji, provider: koji, secrets: ["${KOJI_NEW:-${KOJI_OLD}}"]}]` + "\n"
	cfg := mustParse(t, text, envOf(map[string]string{"KOJI_OLD": "realsecret"}))
	if got := cfg.Sources[0].Secrets[0]; got != "realsecret" {
		t.Errorf("secret = %q, want realsecret", got)
	}
	cfg = mustParse(t, text, envOf(map[string]string{"KOJI_NEW": "newsecret", "KOJI_OLD": "realsecret"}))
	if got := cfg.Sources[0].Secrets[0]; got != "newsecret" {
		t.Errorf("secret = %q, want newsecret", got)
	}
	_, err := ParseConfig(strings.NewReader(text), noEnv)
	want := "config: sources[0].secrets[0]: empty after expanding ${KOJI_NEW}, ${KOJI_OLD}"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("both unset: got %v, want %q", err, want)
	}
}

// TestOtherShellFormsNameKeyNotValue: ${VAR-default} is refused naming
// the key, without echoing what followed the name (it may be a secret).
func TestOtherShellFormsNameKeyNotValue(t *testing.T) {
	text := `sources: [{name: koji, provider: koji, secrets: ["${KOJI-realsecret}"]}]` + "\n"
	_, err := ParseConfig(strings.NewReader(text), noEnv)
	if err == nil || !strings.Contains(err.Error(), "sources[0].secrets[0]: line 1: ${KOJI...}") {
		t.Fatalf("got %v, want an error naming sources[0].secrets[0] and ${KOJI...}", err)
	}
	if strings.Contains(err.Error(), "realsecret") {
		t.Errorf("error echoes the value: %v", err)
	}
}

func TestExpandEnvEmptyName(t *testing.T) {
	if _, _, err := expandEnv("${}", noEnv); err == nil {
		t.Error("got nil error for ${}")
	}
}

func TestUnterminatedNamesLine(t *testing.T) {
	text := "listen: \"127.0.0.1:8080\"\nsources:\n  - name: koji\n    provider: koji\n    secrets: [\"${OOPS\"]\n"
	_, err := ParseConfig(strings.NewReader(text), noEnv)
	want := "config: sources[0].secrets[0]: line 5: unterminated ${"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

// TestExpansionCannotInjectStructure puts YAML-looking secrets into plain,
// quoted and flow positions; each must land verbatim in its own key.
func TestExpansionCannotInjectStructure(t *testing.T) {
	nasty := []string{
		"a: b",
		"x # not a comment",
		"line1\nline2\n  provider: gather",
		`"quoted" 'single' [flow] {map}, comma`,
		"- item",
		"&anchor *alias !!int 12",
		"${NESTED}",
		"null",
		"~",
		"true",
		"123",
		"  padded  ",
		"]\n- evil",
	}
	for _, s := range nasty {
		t.Run(s, func(t *testing.T) {
			env := envOf(map[string]string{"S": s, "T": s})
			text := `sources:
  - name: koji
    provider: koji
    secrets:
      - ${S}
      - "${S}"
      - '${S}'
    enrich:
      api_key: ${T}
auth:
  admin_tokens: ["${S}"]
`
			cfg := mustParse(t, text, env)
			for i, got := range cfg.Sources[0].Secrets {
				if got != s {
					t.Errorf("secrets[%d]: got %q, want %q", i, got, s)
				}
			}
			if got := cfg.Sources[0].Enrich.APIKey; got != s {
				t.Errorf("api_key: got %q, want %q", got, s)
			}
			if got := cfg.Auth.AdminTokens; len(got) != 1 || got[0] != s {
				t.Errorf("admin_tokens: got %q, want [%q]", got, s)
			}
			if got := cfg.Sources[0].Provider; got != "koji" {
				t.Errorf("provider changed to %q", got)
			}
		})
	}
}

func TestExpansionIntoNumbers(t *testing.T) {
	text := `sources: [{name: koji, provider: koji, secrets: [s]}]
destinations:
  - name: app
    url: ${APP_URL:-http://127.0.0.1:3000/webhooks}
    secret: "whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ=="
    max_attempts: ${ATTEMPTS:-7}
    timeout: ${TIMEOUT:-20s}
`
	cfg := mustParse(t, text, envOf(map[string]string{"ATTEMPTS": "3"}))
	d := cfg.Destinations[0]
	if d.MaxAttempts != 3 || d.Timeout.String() != "20s" || d.URL != "http://127.0.0.1:3000/webhooks" {
		t.Errorf("got max_attempts %d timeout %s url %q", d.MaxAttempts, d.Timeout, d.URL)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Setenv("PORCH_ADMIN_TOKEN", "token-from-process-env")
	cfg, err := LoadConfig("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Auth.AdminTokens[0]; got != "token-from-process-env" {
		t.Errorf("admin token: got %q, want token-from-process-env", got)
	}
	if _, err := LoadConfig("../../testdata/config/missing.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
}
