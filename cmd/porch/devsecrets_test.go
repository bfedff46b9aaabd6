package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// devSecretsConfig is testConfig with the example's public Koji secret,
// its ingest listener on listen.
func devSecretsConfig(t *testing.T, listen string) string {
	t.Helper()
	dir := t.TempDir()
	yaml := testConfig(filepath.Join(dir, "data"), "http://127.0.0.1:1/unused")
	yaml = strings.Replace(yaml, testKojiSecret, "dev-koji-secret", 1)
	yaml = strings.Replace(yaml, `listen: "127.0.0.1:0"`, `listen: "`+listen+`"`, 1)
	return writeProcConfig(t, dir, yaml)
}

// serveOutcome runs `bin serve --config cfg args...` until it exits or
// logs that it started; started processes are killed.
func serveOutcome(t *testing.T, bin, cfg string, args ...string) (started bool, code int, log string) {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "porch-*.log")
	if err != nil {
		t.Fatal(err)
	}
	p := &porchProc{cmd: exec.Command(bin, append([]string{"serve", "--config", cfg}, args...)...), log: logf.Name(), exited: make(chan struct{})}
	p.cmd.Stderr, p.cmd.Stdout = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.exited) }()
	defer p.kill9()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if p.readStarted() {
			return true, 0, p.tail()
		}
		select {
		case <-p.exited:
			return false, p.cmd.ProcessState.ExitCode(), p.tail()
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("porch neither started nor exited:\n%s", p.tail())
	return false, 0, ""
}

// Public development secrets on a listener other hosts can reach stop
// serve, unless --allow-dev-secrets says the risk is wanted; on loopback
// porch starts as before, with its warning.
func TestServeRefusesDevSecretsOffLoopback(t *testing.T) {
	bin := buildPorch(t)
	exposed := devSecretsConfig(t, "0.0.0.0:0")
	started, code, log := serveOutcome(t, bin, exposed)
	if started || code != 2 {
		t.Fatalf("serve on 0.0.0.0 with public secrets: started %v, exit %d, want refusal with exit 2:\n%s", started, code, log)
	}
	for _, want := range []string{"sources[0].secrets[1]", "destinations[0].secret", "listen", "--allow-dev-secrets"} {
		if !strings.Contains(log, want) {
			t.Errorf("refusal does not mention %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "dev-koji-secret") {
		t.Errorf("refusal prints a secret:\n%s", log)
	}
	if started, code, log := serveOutcome(t, bin, exposed, "--allow-dev-secrets"); !started {
		t.Errorf("serve --allow-dev-secrets did not start (exit %d):\n%s", code, log)
	}
	started, code, log = serveOutcome(t, bin, devSecretsConfig(t, "127.0.0.1:0"))
	if !started {
		t.Fatalf("serve on loopback with public secrets did not start (exit %d):\n%s", code, log)
	}
	if !strings.Contains(log, "public development secrets") {
		t.Errorf("no warning about public secrets on loopback:\n%s", log)
	}
}

// check-config reports the same refusal serve would make.
func TestCheckConfigReportsDevSecretsOffLoopback(t *testing.T) {
	exposed := devSecretsConfig(t, "0.0.0.0:0")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check-config", "--config", exposed}, &out, &errb); code != 2 {
		t.Errorf("check-config exit %d, want 2:\n%s", code, errb.String())
	}
	for _, want := range []string{"sources[0].secrets[1]", "--allow-dev-secrets"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check-config does not mention %q:\n%s", want, errb.String())
		}
	}
	errb.Reset()
	if code := run(context.Background(), []string{"check-config", "--config", exposed, "--allow-dev-secrets"}, &out, &errb); code != 0 {
		t.Errorf("check-config --allow-dev-secrets exit %d, want 0:\n%s", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"check-config", "--config", devSecretsConfig(t, "127.0.0.1:0")}, &out, &errb); code != 0 {
		t.Errorf("check-config on loopback exit %d, want 0:\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "sources[0].secrets[1]") {
		t.Errorf("check-config on loopback does not warn:\n%s", errb.String())
	}
}

func TestListensOnLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:0": true, "[::1]:8080": true, "[::ffff:127.0.0.1]:8080": true, "localhost:8080": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "10.0.0.5:8080": false, "porch.example.com:443": false,
	} {
		if got := listensOnLoopback(addr); got != want {
			t.Errorf("listensOnLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// A reload cannot bring the public secrets onto a reachable listener
// either: it is refused and the running secrets keep serving.
func TestReloadRefusesDevSecretsOffLoopback(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	safe := strings.Replace(opsConfig(filepath.Join(dir, "data"), `["koji-ops-secret"]`, ""), `listen: "127.0.0.1:0"`, `listen: "0.0.0.0:0"`, 1)
	safe = strings.Replace(safe, "whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ==", "whsec_b3BzLWZvcndhcmQtc2VjcmV0LWtleQ==", 1)
	writeConfig(t, path, safe)
	m := startFromFile(t, path)
	writeConfig(t, path, strings.Replace(safe, "koji-ops-secret", "dev-koji-secret", 1))
	_, err := m.Reload(context.Background())
	if err == nil || !strings.Contains(err.Error(), "sources[0].secrets[0]") {
		t.Fatalf("reload to a public secret on 0.0.0.0: %v, want refusal naming sources[0].secrets[0]", err)
	}
	if code, err := kojiDelivery(t, m.Gateway.Addr(), "iv-reload-dev", "dev-koji-secret"); err != nil || code != 401 {
		t.Errorf("delivery signed with the public secret after the refused reload: %d (%v), want 401", code, err)
	}
}
