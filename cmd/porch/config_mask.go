package main

// masked replaces a non-empty secret with "****" and keeps "" as "".
func masked(s string) string {
	if s == "" {
		return ""
	}
	return "****"
}

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
		d.Match = cloneStrings(d.Match)
		m.Destinations = append(m.Destinations, d)
	}
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
