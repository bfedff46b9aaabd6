package main

import (
	"fmt"

	"github.com/porchgw/porch/forward"
	"github.com/porchgw/porch/inbox/postgres"
	"go.yaml.in/yaml/v3"
)

// masked replaces a non-empty secret with "****" and keeps "" as "".
func masked(s string) string {
	if s == "" {
		return ""
	}
	return "****"
}

// redactURL hides the user information of a URL and every part of its
// query (forward.RedactURL).
func redactURL(s string) string { return forward.RedactURL(s) }

// maskAll masks every element of a secret list into a new slice.
func maskAll(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = masked(s)
	}
	return out
}

// cloneStrings copies a string slice, keeping nil as nil.
func cloneStrings(list []string) []string {
	if list == nil {
		return nil
	}
	return append([]string{}, list...)
}

// Masked returns a deep copy of c with every secret, token and api_key
// replaced by "****" (an empty one stays empty), for printing by check-config.
// The copy is for display only: its forward secrets no longer validate.
func (c *Config) Masked() *Config {
	m := *c
	m.origins = nil
	m.TLS.ACME.Domains = cloneStrings(c.TLS.ACME.Domains)
	m.Ingress.TrustedProxies = cloneStrings(c.Ingress.TrustedProxies)
	m.Sources = nil
	for _, s := range c.Sources {
		m.Sources = append(m.Sources, s.masked())
	}
	m.Destinations = nil
	for _, d := range c.Destinations {
		d.Secret = masked(d.Secret)
		d.URL = redactURL(d.URL)
		d.Match = cloneStrings(d.Match)
		m.Destinations = append(m.Destinations, d)
	}
	m.Store.URL = postgres.MaskURL(c.Store.URL)
	m.Auth.AdminTokens = maskAll(c.Auth.AdminTokens)
	m.Auth.AuditorTokens = maskAll(c.Auth.AuditorTokens)
	return &m
}

func (s Source) masked() Source {
	s.Secrets = maskAll(s.Secrets)
	s.AllowCIDRs = cloneStrings(s.AllowCIDRs)
	if s.Enrich != nil {
		e := *s.Enrich
		e.APIKey = masked(e.APIKey)
		e.BaseURL = redactURL(e.BaseURL)
		e.Events = cloneStrings(e.Events)
		s.Enrich = &e
	}
	if s.Reconcile != nil {
		r := *s.Reconcile
		s.Reconcile = &r
	}
	explicit := make(map[string]bool, len(s.explicit))
	for k, v := range s.explicit {
		explicit[k] = v
	}
	s.explicit = explicit
	return s
}

// providerOnly lists the source keys only one provider's sources may
// set, with that provider, in the order they are checked.
var providerOnly = []struct{ key, provider string }{
	{"tolerance", providerGather},
	{"canonical_fallback", providerGather},
	{"max_body_age", providerKoji},
	{"reconcile", providerGather},
}

// onlyFor returns the provider whose sources alone may set key, or "".
func onlyFor(key string) string {
	for _, o := range providerOnly {
		if o.key == key {
			return o.provider
		}
	}
	return ""
}

// MarshalYAML leaves gather-only keys out of non-gather sources, and
// koji-only keys out of non-koji ones, so a printed effective config loads
// again.
func (s Source) MarshalYAML() (any, error) {
	type plain Source
	var n yaml.Node
	if err := n.Encode(plain(s)); err != nil {
		return nil, fmt.Errorf("encode source %s: %w", s.Name, err)
	}
	if n.Kind != yaml.MappingNode {
		return &n, nil
	}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		if p := onlyFor(n.Content[i].Value); p == "" || p == s.Provider {
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
	}
	n.Content = kept
	return &n, nil
}
