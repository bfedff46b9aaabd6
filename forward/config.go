package forward

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
)

// Body formats of a destination.
const (
	FormatEnvelope = "envelope" // porch's JSON envelope around the payload
	FormatRaw      = "raw"      // the provider's bytes and signature headers, unchanged
)

// SecretPrefix starts every destination secret (Standard Webhooks).
const SecretPrefix = "whsec_"

// Config configures a Dispatcher.
type Config struct {
	Destinations []Destination
	// Prepare, when set, runs before each attempt's request is built (see
	// PrepareFunc). Nil means no enrichment.
	Prepare PrepareFunc
	// Retryable classifies failed attempts. Default DefaultRetryable.
	Retryable RetryableFunc
	// Backoff computes the durable retry delay. Default DefaultBackoff.
	Backoff BackoffFunc
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Poll is the longest the scheduler sleeps without a wake-up signal;
	// a safety net, not the normal path. Default 5s.
	Poll time.Duration
	// Batch caps how many due entries one scheduler pass reads. Default 256.
	Batch int
	// HTTPRetries is how many quick in-process retries one attempt makes
	// (go-retryablehttp RetryMax). Default 2; negative means none.
	HTTPRetries int
	// HTTPRetryWaitMax caps the wait between in-process retries. Default 2s.
	HTTPRetryWaitMax time.Duration
}

// Destination is one internal handler events are forwarded to.
type Destination struct {
	Name string
	URL  string
	// Match lists path.Match globs over "source:event", e.g. "koji:*".
	Match []string
	// Format is FormatEnvelope (default) or FormatRaw.
	Format string
	// Secret is "whsec_" followed by base64 of the signing key.
	Secret      string
	Timeout     time.Duration // per request; default 10s
	MaxAttempts int           // attempts before dead-lettering; default 12
	Concurrency int           // requests in flight; default 4
	// RateLimit, when RPS > 0, caps the request rate.
	RateLimit RateLimit
	Backoff   BackoffConfig
	Circuit   CircuitConfig
}

// RateLimit is a token bucket: RPS requests a second, bursts of Burst.
type RateLimit struct {
	RPS   float64
	Burst int // default max(1, ceil(RPS))
}

// BackoffConfig bounds the exponential retry delay.
type BackoffConfig struct {
	Initial time.Duration // default 5s
	Max     time.Duration // default 1h
}

// CircuitConfig: after Failures consecutive failed attempts the
// destination is paused for Cooldown, then probed with one request.
type CircuitConfig struct {
	Failures int           // default 5
	Cooldown time.Duration // default 30s
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (c *Config) setDefaults() {
	for i := range c.Destinations {
		c.Destinations[i].setDefaults()
	}
	if c.Retryable == nil {
		c.Retryable = DefaultRetryable
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.HTTPRetries == 0 {
		c.HTTPRetries = 2
	}
	if c.HTTPRetryWaitMax <= 0 {
		c.HTTPRetryWaitMax = 2 * time.Second
	}
}

func (d *Destination) setDefaults() {
	if d.Format == "" {
		d.Format = FormatEnvelope
	}
	if d.Timeout <= 0 {
		d.Timeout = 10 * time.Second
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 12
	}
	if d.Concurrency <= 0 {
		d.Concurrency = 4
	}
	if d.RateLimit.RPS > 0 && d.RateLimit.Burst <= 0 {
		d.RateLimit.Burst = max(1, int(d.RateLimit.RPS+0.999))
	}
	if d.Backoff.Initial <= 0 {
		d.Backoff.Initial = 5 * time.Second
	}
	if d.Backoff.Max <= 0 {
		d.Backoff.Max = time.Hour
	}
	if d.Circuit.Failures <= 0 {
		d.Circuit.Failures = 5
	}
	if d.Circuit.Cooldown <= 0 {
		d.Circuit.Cooldown = 30 * time.Second
	}
}

// Validate checks c after defaults; errors name the destination.
func (c *Config) Validate() error {
	c.setDefaults()
	seen := map[string]bool{}
	var errs []error
	for i := range c.Destinations {
		d := &c.Destinations[i]
		if seen[d.Name] {
			errs = append(errs, fmt.Errorf("destination %q: duplicate name", d.Name))
		}
		seen[d.Name] = true
		if err := d.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Validate checks one destination after defaults.
func (d *Destination) Validate() error {
	d.setDefaults()
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if !nameRE.MatchString(d.Name) {
		bad("name must match %s", nameRE)
	}
	if u, err := url.Parse(d.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url must be an absolute http(s) URL")
	}
	if len(d.Match) == 0 {
		bad("match must list at least one glob")
	}
	for _, m := range d.Match {
		if _, err := path.Match(m, ""); err != nil {
			bad("match %q: %v", m, err)
		}
	}
	if d.Format != FormatEnvelope && d.Format != FormatRaw {
		bad("format must be %q or %q", FormatEnvelope, FormatRaw)
	}
	if _, err := decodeSecret(d.Secret); err != nil {
		bad("secret: %v", err)
	}
	if d.RateLimit.RPS < 0 {
		bad("rate_limit.rps must not be negative")
	}
	if d.Backoff.Max < d.Backoff.Initial {
		bad("backoff.max must not be less than backoff.initial")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destination %q: %w", d.Name, err)
	}
	return nil
}

// decodeSecret returns the signing key of a "whsec_" secret. It never
// puts the secret in an error.
func decodeSecret(s string) ([]byte, error) {
	if !strings.HasPrefix(s, SecretPrefix) {
		return nil, fmt.Errorf("must start with %q", SecretPrefix)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil {
		return nil, errors.New("must be base64 after the prefix")
	}
	if len(k) < 16 {
		return nil, errors.New("key must be at least 16 bytes")
	}
	return k, nil
}

// Router returns the function the gateway calls at accept time: the
// names of the destinations whose match globs select "source:eventType",
// in configuration order.
func Router(dests []Destination) func(source, eventType string) []string {
	ds := append([]Destination(nil), dests...)
	return func(source, eventType string) []string {
		key := source + ":" + eventType
		var out []string
		for _, d := range ds {
			for _, m := range d.Match {
				if ok, _ := path.Match(m, key); ok {
					out = append(out, d.Name)
					break
				}
			}
		}
		return out
	}
}
