package enrich

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"time"

	"github.com/sirupsen/logrus"
)

// What to do when the provider API keeps failing.
const (
	// OnFailureForward forwards the event without the record, flagged
	// with HeaderEnrichment: failed.
	OnFailureForward = "forward"
	// OnFailureHold keeps the event back and retries the fetch.
	OnFailureHold = "hold"
)

// Config configures an Enricher. Zero values get the defaults noted.
type Config struct {
	Sources []SourceConfig
	// HTTPClient makes the API requests. Default: a client with no
	// overall timeout (each request gets SourceConfig.Timeout).
	HTTPClient *http.Client
	// MaxBlock is the longest Prepare waits for the rate limit before
	// postponing the event instead. Default 5s.
	MaxBlock time.Duration
	Logger   logrus.FieldLogger // nil discards
	Now      func() time.Time   // default time.Now
	Sleep    SleepFunc          // default Sleep
}

// SourceConfig is one source's enrichment (its YAML enrich block).
type SourceConfig struct {
	Name           string   // the source name, as in inbox.Event.Source
	Provider       string   // ProviderKoji or ProviderGather
	BaseURL        string   // e.g. https://koji.so/api/v1, https://api.prod.qualifi.hr
	APIKey         string   // never logged
	Auth           string   // AuthBearer (koji); AuthAPIKey (gather default) or AuthBasic
	OrganizationID string   // for AuthBasic
	Events         []string // event types to enrich; globs (inbox.MatchGlob)
	OnFailure      string   // OnFailureForward (default) or OnFailureHold
	// Timeout bounds one HTTP request. Default 10s.
	Timeout time.Duration
	// MaxWait bounds how long after the first fetch a record that is
	// still processing is waited for. Default 30m.
	MaxWait time.Duration
	// Refetch are the offsets after the first fetch at which a record
	// still processing is fetched again; those beyond MaxWait are
	// dropped. Default 2m, 10m, 30m.
	Refetch []time.Duration
	// Retries is how many times one fetch is retried in-call after a
	// 429, 5xx or network error. Default 2.
	Retries int
	// HoldBackoff is the wait before fetching again after a failed fetch
	// (on_failure: hold). Default DefaultHoldBackoff.
	HoldBackoff func(attempts int) time.Duration
}

// DefaultHoldBackoff waits 1m, 2m, 4m ... capped at 30m.
func DefaultHoldBackoff(attempts int) time.Duration {
	return min(time.Minute<<min(max(attempts-1, 0), 10), 30*time.Minute)
}

func (c *Config) setDefaults() {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.MaxBlock <= 0 {
		c.MaxBlock = 5 * time.Second
	}
	if c.Logger == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		c.Logger = l
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = Sleep
	}
	for i := range c.Sources {
		c.Sources[i].setDefaults()
	}
}

// DefaultSourceConfig returns the value each field of a source of
// provider takes when left unset: New fills zero fields from it, and a
// config file loader starts each enrich block from it so that an
// explicit zero is checked. An unknown provider gets the fields every
// provider shares.
func DefaultSourceConfig(provider string) SourceConfig {
	d := SourceConfig{
		Provider:    provider,
		OnFailure:   OnFailureForward,
		Timeout:     10 * time.Second,
		MaxWait:     30 * time.Minute,
		Refetch:     []time.Duration{2 * time.Minute, 10 * time.Minute, 30 * time.Minute},
		Retries:     2,
		HoldBackoff: DefaultHoldBackoff,
	}
	if a, ok := apis[provider]; ok {
		d.BaseURL, d.Auth, d.Events = a.baseURL, a.auths[0], slices.Clone(a.events)
	}
	return d
}

func (s *SourceConfig) setDefaults() {
	def := DefaultSourceConfig(s.Provider)
	if s.BaseURL == "" {
		s.BaseURL = def.BaseURL
	}
	if s.Auth == "" {
		s.Auth = def.Auth
	}
	if s.Events == nil {
		s.Events = def.Events
	}
	if s.OnFailure == "" {
		s.OnFailure = def.OnFailure
	}
	if s.Timeout <= 0 {
		s.Timeout = def.Timeout
	}
	if s.MaxWait <= 0 {
		s.MaxWait = def.MaxWait
	}
	if s.Refetch == nil {
		s.Refetch = def.Refetch
	}
	if s.Retries == 0 {
		s.Retries = def.Retries
	}
	if s.HoldBackoff == nil {
		s.HoldBackoff = def.HoldBackoff
	}
}

// Validate reports every problem of c, naming the source.
func (c *Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range c.Sources {
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("enrich: duplicate source %q", s.Name))
		}
		seen[s.Name] = true
		if s.Name == "" {
			errs = append(errs, errors.New("enrich: empty source name"))
		}
		if err := s.Check(); err != nil {
			errs = append(errs, fmt.Errorf("enrich %s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

// ErrEmpty is a required field left empty.
var ErrEmpty = errors.New("must not be empty")

// FieldError is one invalid field of a SourceConfig, named as in the
// config file's enrich block ("base_url", "events[1]"). It never carries
// the API key.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Check reports what is wrong with s as it is, defaults not filled, so
// that an explicit zero is refused: each problem a *FieldError, joined.
func (s *SourceConfig) Check() error {
	var errs []error
	bad := func(field, f string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf(f, args...)})
	}
	a, ok := apis[s.Provider]
	if !ok {
		bad("provider", "unknown provider %q", s.Provider)
	} else if !slices.Contains(a.auths, s.Auth) {
		bad("auth", "%q is not one of %q", s.Auth, a.auths)
	}
	if u, err := url.Parse(s.BaseURL); err != nil {
		bad("base_url", "is not a URL")
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("base_url", "%q is not an absolute http or https URL", u.Redacted()) // never print a password
	}
	if s.APIKey == "" {
		errs = append(errs, &FieldError{Field: "api_key", Err: ErrEmpty})
	}
	if s.Auth == AuthBasic && s.OrganizationID == "" {
		bad("organization_id", "required when auth is basic")
	}
	if len(s.Events) == 0 {
		bad("events", "at least one event type is required")
	}
	for i, g := range s.Events {
		field := fmt.Sprintf("events[%d]", i)
		if g == "" {
			errs = append(errs, &FieldError{Field: field, Err: ErrEmpty})
		} else if _, err := path.Match(g, ""); err != nil {
			bad(field, "%q is not a valid event type or glob", g)
		}
	}
	if s.OnFailure != OnFailureForward && s.OnFailure != OnFailureHold {
		bad("on_failure", "%q is not one of %q", s.OnFailure, []string{OnFailureForward, OnFailureHold})
	}
	if s.Timeout <= 0 {
		bad("timeout", "must be above 0, got %s", s.Timeout)
	}
	if s.MaxWait <= 0 {
		bad("max_wait", "must be above 0, got %s", s.MaxWait)
	}
	if s.Retries < 0 {
		bad("retries", "must not be negative")
	}
	return errors.Join(errs...)
}
