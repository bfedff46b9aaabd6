package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// FuzzParseConfig feeds arbitrary bytes to ParseConfig: it must never panic,
// every failure must carry a *ConfigError, and a config that parses must
// validate again and mask cleanly.
func FuzzParseConfig(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/config/*/*.yaml")
	seeds = append(seeds, "../../config.example.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("${"))
	f.Add([]byte("sources: [{name: k, provider: koji, secrets: [\"${NL}\", ${A}]}]\n"))
	f.Add([]byte("sources: [{name: k, provider: koji, secrets: [\"${U:-${N}}\", \"${E:-${U:-${A}}}x}\"]}]\n"))
	env := envOf(map[string]string{"A": "a: b", "N": "12", "NL": "x\n- y: [z", "E": ""})
	f.Fuzz(func(t *testing.T, data []byte) {
		tm := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("slow input %q", data)) })
		defer tm.Stop()
		cfg, err := ParseConfig(strings.NewReader(string(data)), env)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error without *ConfigError: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed config fails Validate: %v", err)
		}
		if _, err := yaml.Marshal(cfg.Masked()); err != nil {
			t.Fatalf("marshal masked config: %v", err)
		}
		_ = cfg.RetryHorizon()
	})
}

// FuzzExpandEnv checks expansion on its own: it never panics, names only
// valid variables, and any text without "}" survives escaping ($ as $$)
// unchanged, alone and as a default nested at any depth, so a nested
// default is never cut short or left as literal ${...} text.
func FuzzExpandEnv(f *testing.F) {
	for _, s := range []string{"", "plain", "${A}", "${U:-${A}}", "$${A}", "a$b", "${U:-x}y}", "${A-x}", "${"} {
		f.Add(s)
	}
	env := envOf(map[string]string{"A": "alpha", "SET": "set", "E": ""})
	f.Fuzz(func(t *testing.T, s string) {
		if _, refs, err := expandEnv(s, env); err == nil {
			for _, r := range refs {
				if checkVarName(r) != nil {
					t.Fatalf("%q: referenced invalid name %q", s, r)
				}
			}
		}
		if strings.Contains(s, "}") {
			return // a "}" cannot be written inside a default
		}
		esc := strings.ReplaceAll(s, "$", "$$")
		for _, c := range []struct{ in, want string }{
			{esc, s},
			{"${U:-" + esc + "}", s},
			{"${E:-${U:-" + esc + "}}", s},
			{"${SET:-${U:-" + esc + "}}", "set"},
		} {
			got, _, err := expandEnv(c.in, env)
			if err != nil || got != c.want {
				t.Fatalf("expand %q = %q, %v; want %q", c.in, got, err, c.want)
			}
		}
	})
}
