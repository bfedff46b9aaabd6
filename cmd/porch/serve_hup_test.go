package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/sender"
)

// TestSIGHUPDuringStartup sends SIGHUP (systemctl reload) to `porch
// serve` while it is still starting: its TLS certificate is a FIFO, so
// porch blocks reading it after the store has opened and before the
// listeners bind, and the test signals it right then. porch must not
// die, and once it serves it must apply the file as it was changed
// before the signal. (Which log line says so depends on how soon the Go
// runtime hands the signal over; TestEarlySIGHUPAppliedOnceServing pins
// the startup one.)
func TestSIGHUPDuringStartup(t *testing.T) {
	bin := buildPorch(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := selfSigned(t, certFile, keyFile)
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "cert.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tlsBlock := "tls: {cert_file: " + fifo + ", key_file: " + keyFile + "}\n"
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, tlsBlock))

	p := startUnwaited(t, bin, path)
	w := openFIFOWriter(t, p, fifo) // returns once porch is reading the certificate
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s2"]`, tlsBlock))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The plain file takes the FIFO's name before porch gets the
	// certificate, so that nothing porch opens later (the early reload's
	// check of the TLS files, handshakes) finds a FIFO with no writer,
	// whose open would block. Both ends already hold the FIFO open.
	if err := os.Rename(certFile, fifo); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(certPEM)
	w.Close()

	waitUntil(t, 30*time.Second, "porch started", func() bool {
		select {
		case <-p.exited:
			t.Fatalf("porch exited on a SIGHUP during startup (%s):\n%s", p.cmd.ProcessState, p.tail())
		default:
		}
		return p.readStarted()
	})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	waitUntil(t, 30*time.Second, "a delivery signed with the new secret accepted", func() bool {
		return kojiOverTLS(t, client, p.listen, "s2") == http.StatusOK
	})
	if log := p.tail(); !strings.Contains(log, `"msg":"config reloaded"`) || !strings.Contains(log, "SIGHUP") {
		t.Errorf("no log lines about the SIGHUP reload:\n%s", log)
	}
}

// TestEarlySIGHUPAppliedOnceServing: a SIGHUP caught before Open is held,
// and once porch serves the file (changed meanwhile) is reloaded, with a
// log line saying the signal came during startup.
func TestEarlySIGHUPAppliedOnceServing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log, _ := newLogger(logs, "info", "json")
	m := &Main{Config: cfg, Log: log, ConfigPath: path, hup: make(chan os.Signal, 1)}
	m.hup <- syscall.SIGHUP // as runServe's channel holds one that came during startup
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s2"]`, ""))
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, 30*time.Second, "a delivery signed with the new secret accepted", func() bool {
		code, _ := kojiDelivery(t, m.Gateway.Addr(), "early", "s2")
		return code == http.StatusOK
	})
	if got := logs.String(); !strings.Contains(got, "SIGHUP arrived during startup: reloading config now that porch is serving") {
		t.Errorf("no log line about the early SIGHUP:\n%s", got)
	}
}

// openFIFOWriter opens fifo for writing, which blocks until p opens it
// for reading; it fails the test if p exits first.
func openFIFOWriter(t *testing.T, p *porchProc, fifo string) *os.File {
	t.Helper()
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		opened <- f
	}()
	select {
	case f := <-opened:
		return f
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.kill9()
	}
	// Unblock the opener with a reader of our own, then report.
	if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		defer r.Close()
	}
	if f := <-opened; f != nil {
		f.Close()
	}
	t.Fatalf("porch never read its certificate:\n%s", p.tail())
	return nil
}

// kojiOverTLS posts a fresh Koji delivery signed with secret over TLS and
// returns the status, 0 when the request fails.
func kojiOverTLS(t *testing.T, client *http.Client, addr, secret string) int {
	t.Helper()
	def, _ := gateway.Lookup("koji")
	now := time.Now()
	body := sender.Sample(def.Name, "interview.completed", "hup-"+secret, now)
	req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/in/koji", bytes.NewReader(body))
	for k, v := range sender.Sign(def.Name, body, secret, now) {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
