package main

import (
	"fmt"
	"slices"
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
