package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/sender"
)

const opsAdminToken = "ops-admin-token"

// opsConfig is a config file body on free loopback ports; secrets is the
// koji source's secret list in YAML flow form.
func opsConfig(dataDir, secrets, extra string) string {
	return fmt.Sprintf(`
listen: "127.0.0.1:0"
admin_listen: "127.0.0.1:0"
data_dir: %q
log: {level: info, format: json}
sources:
  - name: koji
    provider: koji
    secrets: %s
destinations:
  - name: app
    url: "http://127.0.0.1:9/none"
    match: ["*"]
    secret: "whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ=="
auth:
  admin_tokens: [%q]
  auditor_tokens: ["ops-auditor-token"]
%s`, dataDir, secrets, opsAdminToken, extra)
}

// startFromFile runs the real gateway from a config file, as `porch
// serve --config` does, until the test ends.
func startFromFile(t *testing.T, path string) *Main {
	t.Helper()
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log, _ := newLogger(io.Discard, "info", "json")
	m := &Main{Config: cfg, Log: log, ConfigPath: path}
	if err := m.Open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return m
}

func writeConfig(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// kojiDelivery posts a fresh Koji delivery signed with secret and returns
// the status.
func kojiDelivery(t testing.TB, addr, interview, secret string) (int, error) {
	return kojiDeliveryAt(t, addr, interview, secret, time.Now())
}

// kojiDeliveryAt is kojiDelivery with the body's timestamp set to at.
func kojiDeliveryAt(t testing.TB, addr, interview, secret string, at time.Time) (int, error) {
	def, _ := gateway.Lookup("koji")
	body := sender.Sample(def.Name, "interview.completed", interview, at)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/in/koji", bytes.NewReader(body))
	for k, v := range sender.Sign(def.Name, body, secret, at) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// adminReload calls POST /api/v1/reload and decodes the answer.
func adminReload(t *testing.T, m *Main) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+m.Admin.Addr()+"/api/v1/reload", nil)
	req.Header.Set("Authorization", "Bearer "+opsAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestReloadAddsSecretWithoutDroppingDeliveries keeps deliveries signed
// with the old secret flowing from several goroutines while the config
// gains a new secret; every one must be answered 200, and afterwards the
// new secret works.
func TestReloadAddsSecretWithoutDroppingDeliveries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["old-secret"]`, ""))
	m := startFromFile(t, path)
	addr := m.Gateway.Addr()

	if code, _ := kojiDelivery(t, addr, "before", "new-secret"); code != http.StatusUnauthorized {
		t.Fatalf("new secret before reload: %d, want 401", code)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent, bad atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code, err := kojiDelivery(t, addr, fmt.Sprintf("w%d-%d", w, i), "old-secret")
				sent.Add(1)
				if err != nil || code != http.StatusOK {
					bad.Add(1)
					t.Errorf("delivery during reload: %d, %v", code, err)
				}
			}
		})
	}
	waitUntil(t, 30*time.Second, "20 deliveries before the reload", func() bool { return sent.Load() >= 20 })
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["new-secret", "old-secret"]`, ""))
	status, body := adminReload(t, m)
	if status != http.StatusOK || body["reloaded"] != true {
		t.Fatalf("reload: %d %v", status, body)
	}
	mark := sent.Load()
	waitUntil(t, 30*time.Second, "20 deliveries after the reload", func() bool { return sent.Load() >= mark+20 })
	close(stop)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d of %d deliveries failed during the reload", bad.Load(), sent.Load())
	}
	if code, _ := kojiDelivery(t, addr, "after", "new-secret"); code != http.StatusOK {
		t.Fatalf("new secret after reload: %d, want 200", code)
	}
}

func TestReloadRefusesInvalidConfigAndKeepsServing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["old-secret"]`, ""))
	m := startFromFile(t, path)

	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `[""]`, "")) // an empty secret is never allowed
	status, body := adminReload(t, m)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("bad reload: %d %v, want 422", status, body)
	}
	if msg, _ := body["error"].(string); !strings.Contains(msg, "sources[0].secrets[0]") {
		t.Errorf("error %q does not name the key", msg)
	}
	if code, _ := kojiDelivery(t, m.Gateway.Addr(), "still", "old-secret"); code != http.StatusOK {
		t.Fatalf("delivery after refused reload: %d, want 200", code)
	}
}

func TestReloadReportsRestartRequired(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s2"]`, "limits: {ack_timeout: 2s}\n"))
	status, body := adminReload(t, m)
	got, _ := json.Marshal(body["restart_required"])
	if status != http.StatusOK || string(got) != `["limits"]` {
		t.Fatalf("reload: %d restart_required=%s, want 200 [\"limits\"]", status, got)
	}
	if m.Config.Limits.AckTimeout != 3*time.Second {
		t.Errorf("running ack_timeout = %s, want the old 3s kept", m.Config.Limits.AckTimeout)
	}
	if code, _ := kojiDelivery(t, m.Gateway.Addr(), "x", "s2"); code != http.StatusOK {
		t.Fatalf("new secret: %d", code)
	}
}

func TestReloadNeedsAdminRole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	req, _ := http.NewRequest(http.MethodPost, "http://"+m.Admin.Addr()+"/api/v1/reload", nil)
	req.Header.Set("Authorization", "Bearer ops-auditor-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("auditor reload: %d, want 403", resp.StatusCode)
	}
}

func TestSIGHUPReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path) // Open has caught SIGHUP already
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s2"]`, ""))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "a delivery signed with the new secret accepted", func() bool {
		code, _ := kojiDelivery(t, m.Gateway.Addr(), "hup", "s2")
		return code == http.StatusOK
	})
}

// TestReloadKeepsMaxBodyAgeInsideRunningDedupWindow: dedup.window changes
// only on restart, so a reload raising it together with max_body_age must
// be refused, or deliveries up to 100h old would be accepted while their
// dedup keys last only 24h.
func TestReloadKeepsMaxBodyAgeInsideRunningDedupWindow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, "dedup: {window: 24h}\n"))
	m := startFromFile(t, path)
	if got := m.Config.Sources[0].MaxBodyAge; got != 24*time.Hour-5*time.Minute {
		t.Errorf("default max_body_age under a 24h window = %s, want 23h55m", got)
	}
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), "[\"s1\"]\n    max_body_age: 100h", "dedup: {window: 168h}\n"))
	status, body := adminReload(t, m)
	if msg, _ := body["error"].(string); status != http.StatusUnprocessableEntity || !strings.Contains(msg, "sources[0].max_body_age") {
		t.Fatalf("reload: %d %v, want 422 naming sources[0].max_body_age", status, body)
	}
	if code, _ := kojiDelivery(t, m.Gateway.Addr(), "still", "s1"); code != http.StatusOK {
		t.Fatalf("delivery after refused reload: %d, want 200", code)
	}
}
