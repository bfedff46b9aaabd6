package main

import (
	"encoding/base64"
	"math"
	"path"
	"strings"
	"time"
)

// Destination limits.
const (
	maxDestTimeout   = 5 * time.Minute
	maxAttempts      = 100
	maxConcurrency   = 256
	minForwardKey    = 16
	forwardKeyPrefix = "whsec_"
)

func (c *Config) validateDestinations(p *problems) {
	seen := make(map[string]bool)
	for i := range c.Destinations {
		key := indexKey("destinations", i)
		d := &c.Destinations[i]
		checkName(p, joinKey(key, "name"), d.Name, seen)
		c.validateDestination(p, key, d)
	}
}

func (c *Config) validateDestination(p *problems, key string, d *Destination) {
	checkHTTPURL(p, joinKey(key, "url"), d.URL)
	if len(d.Match) == 0 {
		p.add(joinKey(key, "match"), `at least one "source:event" glob is required`)
	}
	for j, m := range d.Match {
		if _, err := path.Match(m, ""); err != nil || m == "" {
			p.add(indexKey(joinKey(key, "match"), j), "%q is not a valid glob (path.Match syntax)", m)
		}
	}
	checkOneOf(p, joinKey(key, "format"), d.Format, "envelope", "raw")
	c.checkForwardSecret(p, joinKey(key, "secret"), d.Secret)
	if d.Timeout <= 0 || d.Timeout > maxDestTimeout {
		p.add(joinKey(key, "timeout"), "must be above 0 and at most %s, got %s", maxDestTimeout, d.Timeout)
	}
	if d.MaxAttempts < 1 || d.MaxAttempts > maxAttempts {
		p.add(joinKey(key, "max_attempts"), "must be between 1 and %d, got %d", maxAttempts, d.MaxAttempts)
	}
	if d.Concurrency < 1 || d.Concurrency > maxConcurrency {
		p.add(joinKey(key, "concurrency"), "must be between 1 and %d, got %d", maxConcurrency, d.Concurrency)
	}
	checkRate(p, joinKey(key, "rate_limit"), d.RateLimit)
	checkPositive(p, joinKey(key, "backoff.initial"), d.Backoff.Initial)
	if d.Backoff.Max < d.Backoff.Initial {
		p.add(joinKey(key, "backoff.max"), "must be at least backoff.initial (%s), got %s", d.Backoff.Initial, d.Backoff.Max)
	}
	if d.Circuit.Failures < 1 {
		p.add(joinKey(key, "circuit.failures"), "must be at least 1, got %d", d.Circuit.Failures)
	}
	checkPositive(p, joinKey(key, "circuit.cooldown"), d.Circuit.Cooldown)
}

// checkForwardSecret requires "whsec_" + standard base64 of at least 16 bytes.
// The message never includes the secret.
func (c *Config) checkForwardSecret(p *problems, key, v string) {
	if v == "" {
		checkSecret(p, c, key, v)
		return
	}
	b64, ok := strings.CutPrefix(v, forwardKeyPrefix)
	if !ok {
		p.add(key, `must start with "whsec_"`)
		return
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		p.add(key, `the part after "whsec_" is not standard base64`)
		return
	}
	if len(raw) < minForwardKey {
		p.add(key, "key decodes to %d bytes, need at least %d", len(raw), minForwardKey)
	}
}

// ForwardKey returns the HMAC key of a destination: the base64-decoded part
// of Secret after "whsec_". Call it only on a validated config.
func (d Destination) ForwardKey() []byte {
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(d.Secret, forwardKeyPrefix))
	return raw
}

// RetryHorizon returns the longest total backoff any destination may spend
// before dead-lettering: for each destination the sum over attempts
// 1..max_attempts-1 of min(backoff.max, backoff.initial*2^(i-1)).
func (c *Config) RetryHorizon() time.Duration {
	var longest time.Duration
	for _, d := range c.Destinations {
		longest = max(longest, d.retryHorizon())
	}
	return longest
}

func (d Destination) retryHorizon() time.Duration {
	var total time.Duration
	step := d.Backoff.Initial
	for i := 1; i < d.MaxAttempts && i <= maxAttempts; i++ {
		wait := max(0, min(d.Backoff.Max, step))
		if total > math.MaxInt64-wait {
			return math.MaxInt64 // saturate rather than overflow
		}
		total += wait
		if step > 0 && step < d.Backoff.Max && step <= math.MaxInt64/2 {
			step *= 2
		}
	}
	return total
}
