package main

import "github.com/porchgw/porch/gateway"

// Mapping of the edge-operation YAML keys (tls, ingress, sources[].allow_cidrs,
// sources[].rate_limit) onto the gateway's typed config.

// gatewayTLS is the ingest listener's TLS config, nil for plain HTTP.
func gatewayTLS(c *Config) *gateway.TLSConfig {
	switch {
	case c.TLS.ACME.Enabled():
		a := c.TLS.ACME
		return &gateway.TLSConfig{ACME: &gateway.ACMEConfig{
			Domains: a.Domains, Email: a.Email, DirectoryURL: a.DirectoryURL, CacheDir: a.CacheDir,
		}}
	case c.TLS.CertFile != "":
		return &gateway.TLSConfig{CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile}
	}
	return nil
}

// sourceIngress is a source's allowlist and rate limit.
func sourceIngress(s Source) gateway.SourceIngress {
	return gateway.SourceIngress{AllowCIDRs: s.AllowCIDRs, RPS: s.RateLimit.RPS, Burst: s.RateLimit.Burst}
}
