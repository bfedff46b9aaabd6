package main

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// devSecrets are the example config's fallback secrets and tokens. They are
// public (they are in the repository), so a gateway using them accepts
// forged deliveries and opens its archive to anyone.
var devSecrets = []string{
	"dev-koji-secret", "dev-gather-secret", "dev-admin-token", "dev-auditor-token",
	"whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ==",
}

// PublicSecrets names the keys whose value is one of the example's public
// development secrets.
func (c *Config) PublicSecrets() []string {
	var keys []string
	check := func(key, v string) {
		if slices.Contains(devSecrets, v) {
			keys = append(keys, key)
		}
	}
	for i, s := range c.Sources {
		for j, v := range s.Secrets {
			check(fmt.Sprintf("sources[%d].secrets[%d]", i, j), v)
		}
	}
	for i, d := range c.Destinations {
		check(fmt.Sprintf("destinations[%d].secret", i), d.Secret)
	}
	for i, v := range c.Auth.AdminTokens {
		check(fmt.Sprintf("auth.admin_tokens[%d]", i), v)
	}
	for i, v := range c.Auth.AuditorTokens {
		check(fmt.Sprintf("auth.auditor_tokens[%d]", i), v)
	}
	return keys
}

// DevSecretsError is the refusal to run the public development secrets on
// a listener other hosts can reach; nil when the config is safe, or when
// it keeps them on loopback (where only this host can use them).
func (c *Config) DevSecretsError() error {
	keys := c.PublicSecrets()
	if len(keys) == 0 {
		return nil
	}
	var exposed []string
	for _, l := range []struct{ key, addr string }{{"listen", c.Listen}, {"admin_listen", c.AdminListen}} {
		if !listensOnLoopback(l.addr) {
			exposed = append(exposed, fmt.Sprintf("%s %q", l.key, l.addr))
		}
	}
	if len(exposed) == 0 {
		return nil
	}
	for i, k := range keys {
		if ref, ok := c.origins[k]; ok {
			keys[i] = k + " (set " + ref + ")"
		}
	}
	return fmt.Errorf("%s hold the example's public development secrets, and %s is reachable from other hosts: "+
		"anyone could forge deliveries or read the archive. Set real secrets (the environment variables named in the config), "+
		"listen on 127.0.0.1, or pass --allow-dev-secrets to run with them anyway",
		strings.Join(keys, ", "), strings.Join(exposed, " and "))
}

// listensOnLoopback reports whether addr (host:port) binds only loopback:
// "localhost" or a loopback IP. An empty host or 0.0.0.0 binds every
// interface, and a host name could resolve anywhere, so both count as
// reachable.
func listensOnLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
