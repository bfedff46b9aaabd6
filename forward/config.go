package forward

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/porchgw/porch/inbox"
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
	// Match lists globs over "source:event" (inbox.MatchGlob), e.g. "koji:*".
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

// Destination limits Check enforces.
const (
	MaxTimeout     = 5 * time.Minute
	MaxAttempts    = 100
	MaxConcurrency = 256
	minSecretBytes = 16
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// DefaultDestination returns the value every destination field takes when
// left unset: Validate fills zero fields from it, and a config file loader
// starts each destination from it so that an explicit zero is checked.
func DefaultDestination() Destination {
	return Destination{
		Match:       []string{"*"},
		Format:      FormatEnvelope,
		Timeout:     10 * time.Second,
		MaxAttempts: 12,
		Concurrency: 4,
		Backoff:     BackoffConfig{Initial: 5 * time.Second, Max: time.Hour},
		Circuit:     CircuitConfig{Failures: 5, Cooldown: 30 * time.Second},
	}
}

// DefaultBurst is the burst a rate limit of rps takes when Burst is 0:
// max(1, ceil(rps)).
func DefaultBurst(rps float64) int {
	return int(math.Max(1, math.Min(math.Ceil(rps), math.MaxInt32)))
}

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
	def := DefaultDestination()
	if d.Match == nil {
		d.Match = def.Match
	}
	if d.Format == "" {
		d.Format = def.Format
	}
	if d.Timeout <= 0 {
		d.Timeout = def.Timeout
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = def.MaxAttempts
	}
	if d.Concurrency <= 0 {
		d.Concurrency = def.Concurrency
	}
	if d.RateLimit.RPS > 0 && d.RateLimit.Burst <= 0 {
		d.RateLimit.Burst = DefaultBurst(d.RateLimit.RPS)
	}
	if d.Backoff.Initial <= 0 {
		d.Backoff.Initial = def.Backoff.Initial
	}
	if d.Backoff.Max <= 0 {
		d.Backoff.Max = def.Backoff.Max
	}
	if d.Circuit.Failures <= 0 {
		d.Circuit.Failures = def.Circuit.Failures
	}
	if d.Circuit.Cooldown <= 0 {
		d.Circuit.Cooldown = def.Circuit.Cooldown
	}
}

// Validate fills defaults into c's zero fields, then checks it (see Check).
func (c *Config) Validate() error {
	c.setDefaults()
	return c.Check()
}

// Check checks c's destinations as they are, defaults not filled: each
// failing destination gives a *DestinationError, and a name used twice
// fails the later destination's name field.
func (c *Config) Check() error {
	seen := map[string]bool{}
	var errs []error
	for i := range c.Destinations {
		d := &c.Destinations[i]
		var problems []error
		if seen[d.Name] {
			problems = append(problems, &FieldError{Field: "name", Err: fmt.Errorf("duplicate name %q", d.Name)})
		}
		seen[d.Name] = true
		if problems = append(problems, d.check()...); len(problems) > 0 {
			errs = append(errs, &DestinationError{Index: i, Name: d.Name, Err: errors.Join(problems...)})
		}
	}
	return errors.Join(errs...)
}

// Validate fills defaults into d's zero fields, then checks it.
func (d *Destination) Validate() error {
	d.setDefaults()
	return d.Check()
}

// Check checks d as it is, defaults not filled, so that an explicit zero
// is refused. Every violation is a *FieldError; they are joined.
func (d *Destination) Check() error { return errors.Join(d.check()...) }

func (d *Destination) check() []error {
	var errs []error
	bad := func(field, f string, a ...any) {
		errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf(f, a...)})
	}
	if !nameRE.MatchString(d.Name) {
		bad("name", "%q must match %s", d.Name, nameRE)
	}
	if u, err := url.Parse(d.URL); err != nil {
		bad("url", "is not a URL")
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url", "%q is not an absolute http or https URL", RedactURL(d.URL)) // never print a password or query token
	}
	if len(d.Match) == 0 {
		bad("match", `at least one "source:event" glob is required`)
	}
	for j, m := range d.Match {
		if _, err := path.Match(m, ""); err != nil || m == "" {
			bad(fmt.Sprintf("match[%d]", j), "%q is not a valid glob (path.Match syntax)", m)
		}
	}
	if d.Format != FormatEnvelope && d.Format != FormatRaw {
		bad("format", "%q is not one of %q", d.Format, []string{FormatEnvelope, FormatRaw})
	}
	if _, err := decodeSecret(d.Secret); err != nil {
		errs = append(errs, &FieldError{Field: "secret", Err: err})
	}
	if d.Timeout <= 0 || d.Timeout > MaxTimeout {
		bad("timeout", "must be above 0 and at most %s, got %s", MaxTimeout, d.Timeout)
	}
	if d.MaxAttempts < 1 || d.MaxAttempts > MaxAttempts {
		bad("max_attempts", "must be between 1 and %d, got %d", MaxAttempts, d.MaxAttempts)
	}
	if d.Concurrency < 1 || d.Concurrency > MaxConcurrency {
		bad("concurrency", "must be between 1 and %d, got %d", MaxConcurrency, d.Concurrency)
	}
	if d.RateLimit.RPS < 0 {
		bad("rate_limit.rps", "must be 0 (off) or positive")
	}
	if d.RateLimit.Burst < 0 {
		bad("rate_limit.burst", "must be 0 or positive")
	}
	if d.Backoff.Initial <= 0 {
		bad("backoff.initial", "must be above 0, got %s", d.Backoff.Initial)
	}
	if d.Backoff.Max < d.Backoff.Initial {
		bad("backoff.max", "must be at least backoff.initial (%s), got %s", d.Backoff.Initial, d.Backoff.Max)
	}
	if d.Circuit.Failures < 1 {
		bad("circuit.failures", "must be at least 1, got %d", d.Circuit.Failures)
	}
	if d.Circuit.Cooldown <= 0 {
		bad("circuit.cooldown", "must be above 0, got %s", d.Circuit.Cooldown)
	}
	return errs
}

// ErrEmpty is a required field left empty.
var ErrEmpty = errors.New("must not be empty")

// FieldError is one invalid field of a destination, named as in the
// config file ("backoff.max", "match[1]"). It never carries a secret.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// DestinationError is what is wrong with the destination at Index of a
// Config; Err joins its *FieldError values.
type DestinationError struct {
	Index int
	Name  string
	Err   error
}

func (e *DestinationError) Error() string {
	return fmt.Sprintf("destination %q: %s", e.Name, e.Err.Error())
}
func (e *DestinationError) Unwrap() error { return e.Err }

// decodeSecret returns the signing key of a "whsec_" secret: standard
// base64 of at least 16 bytes after the prefix. It never puts the secret
// in an error.
func decodeSecret(s string) ([]byte, error) {
	if s == "" {
		return nil, ErrEmpty
	}
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("must start with %q", SecretPrefix)
	}
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("the part after %q is not standard base64", SecretPrefix)
	}
	if len(k) < minSecretBytes {
		return nil, fmt.Errorf("key decodes to %d bytes, need at least %d", len(k), minSecretBytes)
	}
	return k, nil
}

// RetryHorizon is the longest total backoff d may spend before
// dead-lettering under DefaultBackoff's schedule: the sum over attempts
// 1..MaxAttempts-1 of min(Backoff.Max, Backoff.Initial*2^(i-1)).
func (d Destination) RetryHorizon() time.Duration {
	var total time.Duration
	step := d.Backoff.Initial
	for i := 1; i < d.MaxAttempts && i <= MaxAttempts; i++ {
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
				if inbox.MatchGlob(m, key) {
					out = append(out, d.Name)
					break
				}
			}
		}
		return out
	}
}
