package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// TLSConfig turns on TLS for the ingest listener: from certificate files
// (re-read when they change, so a renewal needs no restart) or from an
// ACME CA. Exactly one of the two is set.
type TLSConfig struct {
	CertFile, KeyFile string
	ACME              *ACMEConfig
}

// ACMEConfig obtains and renews certificates automatically (TLS-ALPN-01
// on the ingest listener itself, or HTTP-01 through ACMEHTTPHandler).
type ACMEConfig struct {
	Domains      []string // the names certificates are issued for; others are refused
	Email        string   // contact for the CA; optional
	DirectoryURL string   // default Let's Encrypt production
	CacheDir     string   // account key and certificates; required
	// HTTPClient talks to the CA; nil uses http.DefaultClient. Tests set
	// one that trusts their CA.
	HTTPClient *http.Client
}

// DefaultACMEDirectory is the CA an ACMEConfig without a DirectoryURL
// uses: Let's Encrypt production.
const DefaultACMEDirectory = autocert.DefaultACMEDirectory

// Validate reports whether c can serve TLS: each problem a *FieldError
// naming the field as the config file's tls block does, joined.
func (c TLSConfig) Validate() error {
	var errs []error
	bad := func(field, msg string) { errs = append(errs, &FieldError{Field: field, Err: errors.New(msg)}) }
	if c.ACME == nil {
		if c.CertFile == "" || c.KeyFile == "" {
			bad("key_file", "tls.cert_file and tls.key_file must be set together")
		}
	} else {
		a := c.ACME
		if c.CertFile != "" {
			bad("acme.domains", "acme cannot be used together with tls.cert_file")
		}
		if len(a.Domains) == 0 {
			bad("acme.domains", "at least one domain is required")
		}
		for i, d := range a.Domains {
			if d == "" {
				errs = append(errs, &FieldError{Field: fmt.Sprintf("acme.domains[%d]", i), Err: ErrEmpty})
			}
		}
		if u, err := url.Parse(a.DirectoryURL); a.DirectoryURL != "" && err != nil {
			bad("acme.directory_url", "is not a URL")
		} else if a.DirectoryURL != "" && ((u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			bad("acme.directory_url", fmt.Sprintf("%q is not an absolute http or https URL", u.Redacted())) // never print a password
		}
		if a.CacheDir == "" {
			bad("acme.cache_dir", "required")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	return nil
}

// newTLS builds the listener's tls.Config.
func newTLS(c TLSConfig, log logrus.FieldLogger) (*tls.Config, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.ACME != nil {
		return newACMEManager(*c.ACME).TLSConfig(), nil
	}
	fc, err := newFileCert(c.CertFile, c.KeyFile, log)
	if err != nil {
		return nil, fmt.Errorf("tls.cert_file, tls.key_file: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: fc.get}, nil
}

func newACMEManager(c ACMEConfig) *autocert.Manager {
	dir := c.DirectoryURL
	if dir == "" {
		dir = DefaultACMEDirectory
	}
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(c.Domains...),
		Cache:      autocert.DirCache(c.CacheDir),
		Email:      c.Email,
		Client:     &acme.Client{DirectoryURL: dir, HTTPClient: c.HTTPClient},
	}
}

// fileCert serves a certificate from files and re-reads them when their
// modification time or size changes. A pair that fails to load (say, the
// cert was replaced but not yet the key) is logged and the previous one
// kept.
type fileCert struct {
	certFile, keyFile string
	log               logrus.FieldLogger

	mu      sync.Mutex
	stamp   [2]fileStamp
	current *tls.Certificate
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func newFileCert(certFile, keyFile string, log logrus.FieldLogger) (*fileCert, error) {
	fc := &fileCert{certFile: certFile, keyFile: keyFile, log: log.WithField("component", "tls")}
	if err := fc.reload(); err != nil {
		return nil, err
	}
	return fc, nil
}

// get is tls.Config.GetCertificate: a stat of both files per handshake,
// a re-read only when one changed.
func (fc *fileCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if st, err := stampOf(fc.certFile, fc.keyFile); err == nil && st != fc.stamp {
		if err := fc.loadLocked(st); err != nil {
			fc.log.WithError(err).Warn("certificate files changed but do not load; keeping the previous certificate")
			fc.stamp = st // do not retry every handshake until they change again
		}
	}
	return fc.current, nil
}

func (fc *fileCert) reload() error {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	st, err := stampOf(fc.certFile, fc.keyFile)
	if err != nil {
		return err
	}
	return fc.loadLocked(st)
}

func (fc *fileCert) loadLocked(st [2]fileStamp) error {
	cert, err := tls.LoadX509KeyPair(fc.certFile, fc.keyFile)
	if err != nil {
		return fmt.Errorf("load certificate: %w", err)
	}
	fc.current, fc.stamp = &cert, st
	if fc.current.Leaf != nil {
		fc.log.WithField("not_after", fc.current.Leaf.NotAfter).Info("certificate loaded")
	}
	return nil
}

func stampOf(certFile, keyFile string) ([2]fileStamp, error) {
	var st [2]fileStamp
	for i, f := range []string{certFile, keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return st, fmt.Errorf("stat certificate: %w", err)
		}
		st[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return st, nil
}
