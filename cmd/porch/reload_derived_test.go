package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reloadExpect reloads through the admin API and fails unless the answer
// is 200 with exactly the restart_required keys given.
func reloadExpect(t *testing.T, m *Main, want string) {
	t.Helper()
	status, body := adminReload(t, m)
	got, _ := json.Marshal(body["restart_required"])
	if status != http.StatusOK || string(got) != want {
		t.Fatalf("reload: %d %v, want 200 with restart_required %s", status, body, want)
	}
}

// TestReloadDerivesMaxBodyAgeFromRunningWindow: dedup.window changes only
// on restart, so a koji source's default max_body_age, derived from it,
// must not follow the file's new window while the old one runs.
func TestReloadDerivesMaxBodyAgeFromRunningWindow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	twoHoursAgo := time.Now().Add(-2 * time.Hour)
	if code, _ := kojiDeliveryAt(t, m.Gateway.Addr(), "old-1", "s1", twoHoursAgo); code != http.StatusOK {
		t.Fatalf("2h-old delivery before reload: %d, want 200", code)
	}
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, "dedup: {window: 1h}\n"))
	reloadExpect(t, m, `["dedup"]`)
	if got := m.Config.Sources[0].MaxBodyAge; got != 24*time.Hour {
		t.Errorf("running max_body_age = %s, want 24h (from the running 168h window)", got)
	}
	if code, _ := kojiDeliveryAt(t, m.Gateway.Addr(), "old-2", "s1", twoHoursAgo); code != http.StatusOK {
		t.Fatalf("2h-old delivery after reload: %d, want 200", code)
	}
}

// TestReloadWidensWindowAndRotatesSecret: from a 1h window, a file with a
// new secret and a 168h window is valid and the secret goes live; the
// default max_body_age stays the one the running 1h window allows.
func TestReloadWidensWindowAndRotatesSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, "dedup: {window: 1h}\n"))
	m := startFromFile(t, path)
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s2", "s1"]`, "dedup: {window: 168h}\n"))
	reloadExpect(t, m, `["dedup"]`)
	if got := m.Config.Sources[0].MaxBodyAge; got != 55*time.Minute {
		t.Errorf("running max_body_age = %s, want 55m (from the running 1h window)", got)
	}
	if code, _ := kojiDelivery(t, m.Gateway.Addr(), "new", "s2"); code != http.StatusOK {
		t.Errorf("new secret after reload: %d, want 200", code)
	}
	if code, _ := kojiDeliveryAt(t, m.Gateway.Addr(), "old", "s2", time.Now().Add(-2*time.Hour)); code != http.StatusUnauthorized {
		t.Errorf("2h-old delivery under the running 1h window: %d, want 401", code)
	}
}

// TestReloadValidatesTheCombinationThatRuns: archive changes only on
// restart, so a file keeping payloads forever (retention 0s) with a
// destination that may retry for 4527h is valid on its own, but would
// run with the old 2160h retention, shorter than that retry horizon:
// check-config's rule refuses it, and the running destinations stay.
func TestReloadValidatesTheCombinationThatRuns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	next := strings.Replace(opsConfig(filepath.Join(dir, "data"), `["s2"]`, "archive: {retention: 0s}\n"),
		`match: ["*"]`, "match: [\"*\"]\n    max_attempts: 100\n    backoff: {initial: 1h, max: 48h}", 1)
	writeConfig(t, path, next)
	if _, err := LoadConfig(path); err != nil {
		t.Fatalf("the file on its own must be valid: %v", err)
	}
	status, body := adminReload(t, m)
	msg, _ := body["error"].(string)
	if status != http.StatusUnprocessableEntity || !strings.Contains(msg, "archive.retention") || !strings.Contains(msg, "running values of archive") {
		t.Fatalf("reload: %d %v, want 422 naming archive.retention and the running archive", status, body)
	}
	if got := m.Config.Destinations[0].MaxAttempts; got == 100 {
		t.Errorf("refused reload changed the running destination")
	}
	if code, _ := kojiDelivery(t, m.Gateway.Addr(), "still", "s1"); code != http.StatusOK {
		t.Errorf("running secret after refused reload: %d, want 200", code)
	}
}

// A reload is refused when the file, as written, is one serve would
// refuse at the next start, even though its offending keys only take
// effect on restart.
func TestReloadRefusesWhatServeWouldRefuse(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(data, `["s1"]`, ""))
	m := startFromFile(t, path)
	for _, tc := range []struct{ name, file, want string }{
		{"public secrets on a reachable listener",
			strings.Replace(opsConfig(data, `["s2"]`, ""), `listen: "127.0.0.1:0"`, `listen: "0.0.0.0:0"`, 1), "destinations[0].secret"},
		{"certificate missing",
			opsConfig(data, `["s2"]`, "tls: {cert_file: "+filepath.Join(dir, "none.pem")+", key_file: "+filepath.Join(dir, "none.key")+"}\n"), "tls.cert_file"},
	} {
		writeConfig(t, path, tc.file)
		status, body := adminReload(t, m)
		msg, _ := body["error"].(string)
		if status != http.StatusUnprocessableEntity || !strings.Contains(msg, "would refuse to start") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: reload %d %v, want 422 naming %s", tc.name, status, body, tc.want)
		}
		if code, _ := kojiDelivery(t, m.Gateway.Addr(), "still-"+tc.name[:4], "s1"); code != http.StatusOK {
			t.Errorf("%s: running secret after the refused reload: %d, want 200", tc.name, code)
		}
	}
}
