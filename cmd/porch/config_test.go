package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/porchgw/porch/forward"
	"go.yaml.in/yaml/v3"
)

func noEnv(string) (string, bool) { return "", false }

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func mustParseFile(t *testing.T, path string, lookup func(string) (string, bool)) *Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := ParseConfig(f, lookup)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return cfg
}

func mustParse(t *testing.T, text string, lookup func(string) (string, bool)) *Config {
	t.Helper()
	cfg, err := ParseConfig(strings.NewReader(text), lookup)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg
}

func TestExampleConfig(t *testing.T) {
	cfg := mustParseFile(t, "../../config.example.yaml", noEnv)
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", cfg.Listen, "127.0.0.1:8080"},
		{"admin_listen", cfg.AdminListen, "127.0.0.1:8081"},
		{"data_dir", cfg.DataDir, "./porch-data"},
		{"log", cfg.Log, LogConfig{Level: "info", Format: "json"}},
		{"tls enabled", cfg.TLS.Enabled(), false},
		{"ack_timeout", cfg.Limits.AckTimeout, 3 * time.Second},
		{"max_body_bytes", cfg.Limits.MaxBodyBytes, int64(1 << 20)},
		{"dedup.window", cfg.Dedup.Window, 168 * time.Hour},
		{"archive.retention", cfg.Archive.Retention, 2160 * time.Hour},
		{"sources", len(cfg.Sources), 2},
		{"koji secret", cfg.Sources[0].Secrets, []string{"dev-koji-secret"}},
		{"koji enrich", cfg.Sources[0].Enrich == nil, true},
		{"gather secret", cfg.Sources[1].Secrets, []string{"dev-gather-secret"}},
		{"gather tolerance", cfg.Sources[1].Tolerance, 15 * time.Minute},
		{"gather canonical_fallback", cfg.Sources[1].CanonicalFallback, true},
		{"dest url", cfg.Destinations[0].URL, "http://127.0.0.1:3000/webhooks"},
		{"dest secret", cfg.Destinations[0].Secret, "whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ=="},
		{"dest key", forwardKey(t, cfg.Destinations[0].Secret), "dev-forward-secret-key"},
		{"dest max_attempts", cfg.Destinations[0].MaxAttempts, 12},
		{"admin tokens", cfg.Auth.AdminTokens, []string{"dev-admin-token"}},
		{"auditor tokens", cfg.Auth.AuditorTokens, []string{"dev-auditor-token"}},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

// forwardKey decodes the signing key of a "whsec_" destination secret.
func forwardKey(t *testing.T, secret string) string {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, forward.SecretPrefix))
	if err != nil {
		t.Fatal(err)
	}
	return string(k)
}

func TestExampleConfigTakesEnv(t *testing.T) {
	cfg := mustParseFile(t, "../../config.example.yaml", envOf(map[string]string{
		"KOJI_WEBHOOK_SECRET": "from-env", "PORCH_ADMIN_TOKEN": "admin-from-env",
	}))
	if got := cfg.Sources[0].Secrets[0]; got != "from-env" {
		t.Errorf("koji secret: got %q, want from-env", got)
	}
	if got := cfg.Auth.AdminTokens[0]; got != "admin-from-env" {
		t.Errorf("admin token: got %q, want admin-from-env", got)
	}
}

func TestMinimalConfigDefaults(t *testing.T) {
	cfg := mustParseFile(t, "../../testdata/config/valid/minimal.yaml", noEnv)
	want := DefaultConfig()
	want.Sources = []Source{{Name: "koji", Provider: "koji", Secrets: []string{"dev-koji-secret"},
		Tolerance: 15 * time.Minute, CanonicalFallback: true}}
	want.fillDerived()
	opt := cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".origins" || p.Last().String() == ".explicit"
	}, cmp.Ignore())
	if diff := cmp.Diff(want, cfg, cmp.AllowUnexported(Config{}, Source{}), opt); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestFullConfig(t *testing.T) {
	cfg := mustParseFile(t, "../../testdata/config/valid/full.yaml", noEnv)
	koji, gather := cfg.Sources[0], cfg.Sources[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"acme cache_dir", cfg.TLS.ACME.CacheDir, "/var/lib/porch/certs"},
		{"ack_timeout", cfg.Limits.AckTimeout, 2500 * time.Millisecond},
		{"koji burst default", koji.RateLimit.Burst, 3},
		{"koji enrich base_url default", koji.Enrich.BaseURL, "https://koji.so/api/v1"},
		{"koji enrich auth default", koji.Enrich.Auth, "bearer"},
		{"koji enrich events default", koji.Enrich.Events, []string{"interview.analysis_ready"}},
		{"koji enrich on_failure", koji.Enrich.OnFailure, "hold"},
		{"koji max_body_age", koji.MaxBodyAge, 6 * time.Hour},
		{"gather max_body_age unset", gather.MaxBodyAge, time.Duration(0)},
		{"gather canonical_fallback", gather.CanonicalFallback, false},
		{"gather auth", gather.Enrich.Auth, "basic"},
		{"gather enrich timeout default", gather.Enrich.Timeout, 10 * time.Second},
		{"gather reconcile", *gather.Reconcile, ReconcileConfig{Interval: 15 * time.Minute, Lookback: 48 * time.Hour}},
		{"dest format", cfg.Destinations[0].Format, "raw"},
		{"second dest defaults", cfg.Destinations[1].Backoff, BackoffConfig{Initial: 5 * time.Second, Max: time.Hour}},
		{"second dest match", cfg.Destinations[1].Match, []string{"*"}},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestValidConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/config/valid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no valid fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { mustParseFile(t, f, noEnv) })
	}
}

// leakMarkers are secret values used in invalid fixtures; no error may print them.
var leakMarkers = []string{"hunter2", "same-token", "ZGV2LWZvcndhcmQ", "c2hvcnQ", "not*base64", "pk_live"}

func TestInvalidConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/config/invalid/*.yaml")
	if len(files) < 25 {
		t.Fatalf("got %d invalid fixtures, want at least 25", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			want := wantKey(t, f)
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseConfig(strings.NewReader(string(b)), noEnv)
			if err == nil {
				t.Fatalf("parsed without error, want one naming %s", want)
			}
			if !strings.Contains(err.Error(), want+":") {
				t.Errorf("error does not name %s:\n%v", want, err)
			}
			for _, m := range leakMarkers {
				if strings.Contains(err.Error(), m) {
					t.Errorf("error leaks %q:\n%v", m, err)
				}
			}
		})
	}
}

// wantKey reads the "# want: <key path>" first line of a fixture.
func wantKey(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Scan()
	want, ok := strings.CutPrefix(s.Text(), "# want: ")
	if !ok {
		t.Fatalf("first line %q is not # want: <key>", s.Text())
	}
	return want
}

func TestConfigErrorsAreTyped(t *testing.T) {
	_, err := ParseConfig(strings.NewReader("limits:\n  ack_timeout: 3x\n"), noEnv)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConfigError", err)
	}
	want := `config: limits.ack_timeout: "3x" is not a duration (use Go syntax like 90s, 5m, 168h) (line 2)`
	if got := ce.Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEmptySecretNamesVariable(t *testing.T) {
	_, err := ParseConfig(strings.NewReader(
		"sources:\n  - name: koji\n    provider: koji\n    secrets: [\"a\", \"${KOJI_SECRET}\"]\n"), noEnv)
	want := "config: sources[0].secrets[1]: empty after expanding ${KOJI_SECRET}"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestMasked(t *testing.T) {
	secrets := map[string]string{
		"KS": "koji-secret-1", "GS": "gather-secret-2", "KA": "koji-api-key-3", "GA": "gather-api-key-4",
		"FS": "whsec_c2VjcmV0LWZvcndhcmQta2V5LTU=", "AT": "admin-token-6", "UT": "auditor-token-7",
	}
	text := `sources:
  - name: koji
    provider: koji
    secrets: ["${KS}", ""]
    enrich: {api_key: "${KA}"}
  - name: gather
    provider: gather
    secrets: ["${GS}"]
    enrich: {api_key: "${GA}"}
destinations:
  - {name: app, url: "http://user:url-password-8@127.0.0.1:3000/", secret: "${FS}"}
  - {name: hook, url: "http://url-user-9@127.0.0.1:3001/hook?url-token-7", secret: "${FS}"}
auth: {admin_tokens: ["${AT}"], auditor_tokens: ["${UT}"]}
`
	// "" in secrets is invalid, so build from a valid config and blank one afterwards.
	cfg := mustParse(t, strings.Replace(text, `, ""]`, "]", 1), envOf(secrets))
	cfg.Sources[0].Secrets = append(cfg.Sources[0].Secrets, "")
	out, err := yaml.Marshal(cfg.Masked())
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range secrets {
		if strings.Contains(string(out), s) {
			t.Errorf("masked output contains %s", name)
		}
	}
	for _, s := range []string{"url-password-8", "url-user-9", "url-token-7"} {
		if strings.Contains(string(out), s) {
			t.Errorf("masked output contains %s:\n%s", s, out)
		}
	}
	m := cfg.Masked()
	if diff := cmp.Diff([]string{"****", ""}, m.Sources[0].Secrets); diff != "" {
		t.Errorf("masked secrets (-want +got):\n%s", diff)
	}
	if cfg.Sources[0].Secrets[0] != secrets["KS"] || cfg.Sources[0].Enrich.APIKey != secrets["KA"] ||
		cfg.Auth.AdminTokens[0] != secrets["AT"] || cfg.Destinations[0].Secret != secrets["FS"] {
		t.Error("Masked changed the original config")
	}
}

func TestRetryHorizon(t *testing.T) {
	dest := func(attempts int, initial, maxWait time.Duration) Destination {
		return Destination{MaxAttempts: attempts, Backoff: BackoffConfig{Initial: initial, Max: maxWait}}
	}
	tests := []struct {
		name  string
		dests []Destination
		want  time.Duration
	}{
		{"none", nil, 0},
		{"one attempt", []Destination{dest(1, time.Second, time.Hour)}, 0},
		{"defaults", []Destination{dest(12, 5*time.Second, time.Hour)}, 5115*time.Second + time.Hour},
		{"capped", []Destination{dest(4, time.Minute, 90*time.Second)}, time.Minute + 90*time.Second + 90*time.Second},
		{"longest wins", []Destination{dest(2, time.Second, time.Hour), dest(3, time.Second, time.Hour)}, 3 * time.Second},
		{"saturates", []Destination{dest(100, time.Duration(1<<62), time.Duration(1<<62))}, time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Destinations: tt.dests}
			if got := c.RetryHorizon(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestEffectiveConfigRoundTrips checks that the config check-config prints
// (yaml.Marshal of a parsed config) parses back to the same config.
func TestEffectiveConfigRoundTrips(t *testing.T) {
	for _, f := range []string{"../../config.example.yaml", "../../testdata/config/valid/full.yaml"} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg := mustParseFile(t, f, noEnv)
			out, err := yaml.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			again := mustParse(t, string(out), noEnv)
			opt := cmp.FilterPath(func(p cmp.Path) bool {
				return p.Last().String() == ".origins" || p.Last().String() == ".explicit"
			}, cmp.Ignore())
			if diff := cmp.Diff(cfg, again, cmp.AllowUnexported(Config{}, Source{}), opt, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip (-first +second):\n%s", diff)
			}
		})
	}
}

func TestUnknownKeyListsAllowed(t *testing.T) {
	_, err := ParseConfig(strings.NewReader("sources:\n  - name: k\n    provider: koji\n    secrets: [a]\n    enrich: {apikey: x}\n"), noEnv)
	want := "config: sources[0].enrich.apikey: unknown key (allowed here: base_url, api_key, auth, organization_id, events, on_failure, timeout, max_wait) (line 5)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestEmptyBlockIsAnError: enrich or reconcile written with no value
// (its body commented out) would read as "off"; it is refused instead,
// like enrich: {}, naming the key.
func TestEmptyBlockIsAnError(t *testing.T) {
	for _, block := range []string{"enrich:", "enrich: ~", "enrich: null", "reconcile:"} {
		t.Run(block, func(t *testing.T) {
			text := "sources:\n  - name: g\n    provider: gather\n    secrets: [s]\n    " + block + "\n"
			if strings.HasPrefix(block, "reconcile") {
				text += "    enrich: {api_key: k}\n"
			}
			_, err := ParseConfig(strings.NewReader(text), noEnv)
			key := strings.TrimSuffix(strings.Fields(block)[0], ":")
			want := "config: sources[0]." + key + ": empty; remove the key or fill it in"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want %q", err, want)
			}
		})
	}
}
