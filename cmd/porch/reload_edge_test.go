package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/sender"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and returns a
// pool that trusts it.
func selfSigned(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// TestServeEdgeKeys runs porch from a file with tls, ingress.trusted_proxies,
// sources[].allow_cidrs and sources[].rate_limit set, and checks each
// takes effect on the real listeners, then reads the outcome in /metrics.
func TestServeEdgeKeys(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := selfSigned(t, certFile, keyFile)
	cfg := opsConfig(filepath.Join(dir, "data"), `["s1"]`, fmt.Sprintf(`tls: {cert_file: %q, key_file: %q}
ingress: {trusted_proxies: ["127.0.0.1"]}
`, certFile, keyFile))
	cfg = strings.Replace(cfg, `secrets: ["s1"]`, `secrets: ["s1"]
    allow_cidrs: ["192.0.2.0/24"]
    rate_limit: {rps: 0.001, burst: 2}`, 1)
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, cfg)
	m := startFromFile(t, path)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	send := func(xff string) int {
		def, _ := gateway.Lookup("koji")
		body := sender.Sample(def.Name, "interview.completed", "edge-"+xff, time.Now())
		req, _ := http.NewRequest(http.MethodPost, "https://"+m.Gateway.Addr()+"/in/koji", bytes.NewReader(body))
		for k, v := range sender.Sign(def.Name, body, "s1", time.Now()) {
			req.Header[k] = v
		}
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("post over TLS: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		xff  string
		want int
	}{
		{"192.0.2.10", 200}, {"203.0.113.1", 403}, {"192.0.2.11", 200}, {"192.0.2.12", 429},
	} {
		if got := send(c.xff); got != c.want {
			t.Fatalf("client %s: %d, want %d", c.xff, got, c.want)
		}
	}
	resp, err := http.Get("http://" + m.Admin.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`porch_deliveries_total{event="interview.completed",outcome="accepted",source="koji"} 2`,
		`porch_deliveries_total{event="",outcome="forbidden",source="koji"} 1`,
		`porch_deliveries_total{event="",outcome="rate_limited",source="koji"} 1`,
		`porch_provider_ack_deadline_seconds{provider="koji",source="koji"} 10`,
		`porch_outbox_depth{destination="app"} 2`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestForwardMetrics: a delivery forwarded to a real downstream shows up
// as a delivered attempt in /metrics, and the outbox drains to zero.
func TestForwardMetrics(t *testing.T) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer sink.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, strings.Replace(opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""), "http://127.0.0.1:9/none", sink.URL, 1))
	m := startFromFile(t, path)
	if code, err := kojiDelivery(t, m.Gateway.Addr(), "fwd", "s1"); code != http.StatusOK {
		t.Fatalf("delivery: %d %v", code, err)
	}
	want := `porch_forward_attempts_total{destination="app",outcome="delivered"} 1`
	waitUntil(t, 30*time.Second, "the delivered attempt in /metrics", func() bool {
		resp, err := http.Get("http://" + m.Admin.Addr() + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(text), want)
	})
}

// TestEnrichCountersInMetrics: with an enrich block, the enricher's own
// counters are exported at /metrics.
func TestEnrichCountersInMetrics(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	cfg := strings.Replace(opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""), `secrets: ["s1"]`, `secrets: ["s1"]
    enrich: {base_url: "http://127.0.0.1:9/api", api_key: "test-key"}`, 1)
	writeConfig(t, path, cfg)
	m := startFromFile(t, path)
	resp, err := http.Get("http://" + m.Admin.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(text), "porch_enrich_requests_total 0") {
		t.Errorf("metrics lack the enricher's counters")
	}
}
