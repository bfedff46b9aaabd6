package main

import (
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func parseOps(t *testing.T, yaml string) *Config {
	t.Helper()
	cfg, err := ParseConfig(strings.NewReader(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRestartRequiredKeys(t *testing.T) {
	running := parseOps(t, opsConfig("/data", `["s1"]`, ""))
	next := parseOps(t, strings.Replace(opsConfig("/other", `["s2"]`, "limits: {ack_timeout: 2s}\n"),
		`http://127.0.0.1:9/none`, `http://127.0.0.1:9/moved`, 1))

	// tls does not: its derived tls.acme.cache_dir (<data_dir>/acme)
	// moved, but no TLS is served.
	keys, merged := restartRequired(running, next, nil)
	if want := []string{"data_dir", "limits", KeyDestinations}; !slices.Equal(keys, want) {
		t.Errorf("restart required = %v, want %v", keys, want)
	}
	if merged.DataDir != "/data" || merged.Destinations[0].URL != "http://127.0.0.1:9/none" || merged.Limits != running.Limits {
		t.Errorf("merged config took restart-only values from the new file")
	}
	if merged.Sources[0].Secrets[0] != "s2" {
		t.Errorf("merged config lost the live change of secrets")
	}

	// With certificate files (no ACME), the derived acme block is not in
	// use either; a new certificate file is a tls change.
	certs := "tls: {cert_file: /c.pem, key_file: /k.pem}\n"
	withCerts := parseOps(t, opsConfig("/data", `["s1"]`, certs))
	if keys, _ := restartRequired(withCerts, parseOps(t, opsConfig("/other", `["s1"]`, certs)), nil); !slices.Equal(keys, []string{"data_dir"}) {
		t.Errorf("data_dir moved under certificate files: restart required = %v, want [data_dir]", keys)
	}
	if keys, _ := restartRequired(withCerts, parseOps(t, opsConfig("/data", `["s1"]`, strings.Replace(certs, "/c.pem", "/new.pem", 1))), nil); !slices.Equal(keys, []string{"tls"}) {
		t.Errorf("new certificate file: restart required = %v, want [tls]", keys)
	}

	keys, merged = restartRequired(running, next, map[string]bool{KeyDestinations: true})
	if slices.Contains(keys, KeyDestinations) || merged.Destinations[0].URL != "http://127.0.0.1:9/moved" {
		t.Errorf("claimed destinations still restart-only: %v", keys)
	}
}

// TestReloadHookFailureRollsBack: a hook that refuses leaves the running
// secrets in force.
func TestReloadHookFailureRollsBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	m.ReloadHooks = append(m.ReloadHooks, ReloadHook{Keys: []string{KeyDestinations}, Apply: func(next *Config) error {
		if next.Sources[0].Secrets[0] == "s2" {
			return errors.New("forwarder refuses")
		}
		return nil
	}})
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s2"]`, ""))
	if status, body := adminReload(t, m); status != http.StatusUnprocessableEntity {
		t.Fatalf("reload with a failing hook: %d %v, want 422", status, body)
	}
	if code, _ := kojiDelivery(t, m.Gateway.Addr(), "a", "s1"); code != http.StatusOK {
		t.Errorf("old secret after rollback: %d, want 200", code)
	}
	if code, _ := kojiDelivery(t, m.Gateway.Addr(), "b", "s2"); code != http.StatusUnauthorized {
		t.Errorf("new secret after rollback: %d, want 401", code)
	}
}

// TestRestartRequiredPerSourceBlocks: only a real change to a source's
// enrich or reconcile block, or a source with one coming or going, needs
// a restart; sources without those blocks come and go live.
func TestRestartRequiredPerSourceBlocks(t *testing.T) {
	const (
		koji     = `["s1"]`
		plain2   = "\n  - name: second\n    provider: koji\n    secrets: [\"s9\"]"
		renamed  = "\n  - name: third\n    provider: koji\n    secrets: [\"s9\"]"
		enriched = "\n    enrich: {api_key: k1}"
		rekeyed  = "\n    enrich: {api_key: k2}"
		gather   = "\n  - name: g\n    provider: gather\n    secrets: [\"g1\"]\n    enrich: {api_key: k}\n    reconcile: {interval: 5m}"
	)
	tests := []struct {
		name          string
		running, next string
		want          []string
	}{
		{"add a plain source", koji, koji + plain2, []string{}},
		{"remove a plain source", koji + plain2, koji, []string{}},
		{"rename a plain source", koji + plain2, koji + renamed, []string{}},
		{"add a plain source beside an enriched one", koji + enriched, koji + enriched + plain2, []string{}},
		{"add an enriched source", koji, koji + plain2 + enriched, []string{KeyEnrich}},
		{"remove an enriched source", koji + plain2 + enriched, koji, []string{KeyEnrich}},
		{"change an enrich block", koji + enriched, koji + rekeyed, []string{KeyEnrich}},
		{"add a reconciling source", koji, koji + gather, []string{KeyEnrich, KeyReconcile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			running := parseOps(t, opsConfig("/data", tt.running, ""))
			next := parseOps(t, opsConfig("/data", tt.next, ""))
			if keys, _ := restartRequired(running, next, nil); !slices.Equal(keys, tt.want) {
				t.Errorf("restart required = %q, want %q", keys, tt.want)
			}
		})
	}
}

// TestReloadAddsSourceLive: a new source without enrich or reconcile
// needs no restart, and takes deliveries after the reload.
func TestReloadAddsSourceLive(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), "[\"s1\"]\n  - name: gather\n    provider: gather\n    secrets: [\"g1\"]", ""))
	reloadExpect(t, m, `[]`)
	resp, err := http.Post("http://"+m.Gateway.Addr()+"/in/gather", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned POST to the new source: %d, want 401 (served, not 404)", resp.StatusCode)
	}
}

// TestReloadRefusesEmptyEnrich: a reload to a file whose enrich key lost
// its body is refused like check-config refuses it.
func TestReloadRefusesEmptyEnrich(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), "[\"s2\"]\n    enrich:\n    #  api_key: k", ""))
	status, body := adminReload(t, m)
	if msg, _ := body["error"].(string); status != http.StatusUnprocessableEntity || !strings.Contains(msg, "sources[0].enrich: empty") {
		t.Fatalf("reload: %d %v, want 422 naming sources[0].enrich", status, body)
	}
}

// TestReloadAddsEnrichedSource: a new source with an enrich block is
// served at once and its enrichment waits for a restart; the merged
// config (the source without the block) must not read as an empty block.
func TestReloadAddsEnrichedSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), "[\"s1\"]\n  - name: second\n    provider: koji\n    secrets: [\"s9\"]\n    enrich: {api_key: k}", ""))
	reloadExpect(t, m, `["sources[].enrich"]`)
	if got := m.Config.Sources[1].Enrich; got != nil {
		t.Errorf("new source runs enrichment before a restart: %+v", got)
	}
}
