package gateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
)

// testCA issues leaf certificates for 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "porch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// writeLeaf writes a certificate for 127.0.0.1 with serial to certFile and
// keyFile.
func (ca *testCA) writeLeaf(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	writeAtomically(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	writeAtomically(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// writeAtomically replaces path the way certbot and friends do, and moves
// its mtime forward so the change shows even on a coarse clock.
func writeAtomically(t *testing.T, path string, data []byte) {
	t.Helper()
	old, _ := os.Stat(path)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if old != nil {
		mt := old.ModTime().Add(time.Second)
		_ = os.Chtimes(tmp, mt, mt)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// handshakeSerial opens a fresh TLS connection and returns the serial of
// the certificate the server presented.
func handshakeSerial(t *testing.T, addr string, roots *x509.CertPool) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func TestTLSFromFilesPicksUpRotation(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.writeLeaf(t, 100, certFile, keyFile)
	srv, _ := startGateway(t, gateway.Config{TLS: &gateway.TLSConfig{CertFile: certFile, KeyFile: keyFile}})

	if got := handshakeSerial(t, srv.Addr(), ca.pool); got != 100 {
		t.Fatalf("serial = %d, want 100", got)
	}
	body, h := signedKoji(t, "i-tls", kojiSecret)
	client := tlsClient(&tls.Config{RootCAs: ca.pool})
	if a := postDelivery(t, client, "https://"+srv.Addr(), "koji", body, h); a.Status != http.StatusOK {
		t.Fatalf("delivery over TLS: %+v", a)
	}

	ca.writeLeaf(t, 200, certFile, keyFile)
	if got := handshakeSerial(t, srv.Addr(), ca.pool); got != 200 {
		t.Fatalf("after rotation serial = %d, want 200", got)
	}
}

func TestTLSKeepsOldCertWhenNewFilesAreBroken(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.writeLeaf(t, 7, certFile, keyFile)
	srv, _ := startGateway(t, gateway.Config{TLS: &gateway.TLSConfig{CertFile: certFile, KeyFile: keyFile}})
	writeAtomically(t, certFile, []byte("half-written"))
	if got := handshakeSerial(t, srv.Addr(), ca.pool); got != 7 {
		t.Fatalf("serial = %d, want the previous certificate (7)", got)
	}
}

func TestTLSConfigValidate(t *testing.T) {
	for name, c := range map[string]gateway.TLSConfig{
		"no files":      {},
		"key missing":   {CertFile: "c"},
		"both":          {CertFile: "c", KeyFile: "k", ACME: &gateway.ACMEConfig{Domains: []string{"a"}, CacheDir: "d"}},
		"acme no names": {ACME: &gateway.ACMEConfig{CacheDir: "d"}},
		"acme no cache": {ACME: &gateway.ACMEConfig{Domains: []string{"a"}}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
