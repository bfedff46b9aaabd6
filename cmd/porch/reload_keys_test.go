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

	// tls differs too: tls.acme.cache_dir defaults to <data_dir>/acme.
	keys, merged := restartRequired(running, next, nil)
	if want := []string{"data_dir", "tls", "limits", KeyDestinations}; !slices.Equal(keys, want) {
		t.Errorf("restart required = %v, want %v", keys, want)
	}
	if merged.DataDir != "/data" || merged.Destinations[0].URL != "http://127.0.0.1:9/none" || merged.Limits != running.Limits {
		t.Errorf("merged config took restart-only values from the new file")
	}
	if merged.Sources[0].Secrets[0] != "s2" {
		t.Errorf("merged config lost the live change of secrets")
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
