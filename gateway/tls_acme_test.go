package gateway_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/porchgw/porch/gateway"
)

// startPebble runs Let's Encrypt's test CA in-process over HTTPS on
// loopback. Its VA marks every challenge valid (nothing here is reachable
// from outside), and it never rejects nonces or sleeps, so the test is
// deterministic. It returns the directory URL, an HTTP client that trusts
// the ACME server, and the pool with the root that signs issued
// certificates.
func startPebble(t *testing.T) (dirURL string, client *http.Client, roots *x509.CertPool) {
	t.Helper()
	t.Setenv("PEBBLE_VA_ALWAYS_VALID", "1")
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	logger := log.New(io.Discard, "pebble ", 0)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	validator := va.New(logger, 5002, 5001, false, "", store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 3, 5)
	ts := httptest.NewTLSServer(front.Handler())
	t.Cleanup(ts.Close)
	roots = x509.NewCertPool()
	roots.AddCert(authority.GetRootCert(0).Cert)
	return ts.URL + wfe.DirectoryPath, ts.Client(), roots
}

// TestTLSWithACMECertificateFromPebble: the first handshake for a
// configured name makes autocert order a certificate from pebble
// (TLS-ALPN-01), and the client verifies it against pebble's root.
func TestTLSWithACMECertificateFromPebble(t *testing.T) {
	dirURL, acmeClient, roots := startPebble(t)
	const domain = "porch.example.test"
	cache := t.TempDir()
	srv, _ := startGateway(t, gateway.Config{TLS: &gateway.TLSConfig{ACME: &gateway.ACMEConfig{
		Domains: []string{domain}, Email: "ops@example.test", DirectoryURL: dirURL,
		CacheDir: cache, HTTPClient: acmeClient,
	}}})

	// The first handshake waits for the order. Under the race detector on
	// a busy machine that can outlast the listener's handshake deadline;
	// autocert finishes the order anyway and caches the certificate (under
	// the domain's name), and a handshake after that gets it.
	dial := func() (*tls.Conn, error) {
		return tls.Dial("tcp", srv.Addr(), &tls.Config{RootCAs: roots, ServerName: domain})
	}
	conn, err := dial()
	if err != nil {
		t.Logf("first handshake: %v; waiting for the order to finish", err)
		waitFor(t, "the certificate in autocert's cache", func() bool {
			_, err := os.Stat(filepath.Join(cache, domain))
			return err == nil
		})
		conn, err = dial()
	}
	if err != nil {
		t.Fatalf("handshake with an ACME certificate: %v", err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if err := leaf.VerifyHostname(domain); err != nil {
		t.Fatalf("issued certificate: %v", err)
	}

	body, h := signedKoji(t, "i-acme", kojiSecret)
	client := tlsClient(&tls.Config{RootCAs: roots, ServerName: domain})
	if a := postDelivery(t, client, "https://"+srv.Addr(), "koji", body, h); a.Status != http.StatusOK {
		t.Fatalf("delivery over ACME TLS: %+v", a)
	}

	// A name that is not configured gets no certificate.
	if _, err := tls.Dial("tcp", srv.Addr(), &tls.Config{RootCAs: roots, ServerName: "other.example.test"}); err == nil {
		t.Fatal("handshake for an unconfigured name succeeded")
	}
}
