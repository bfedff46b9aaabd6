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
	Events         []string // event types to enrich; path.Match globs
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

func (s *SourceConfig) setDefaults() {
	if a, ok := apis[s.Provider]; ok && s.Auth == "" {
		s.Auth = a.auths[0]
	}
	if s.OnFailure == "" {
		s.OnFailure = OnFailureForward
	}
	if s.Timeout <= 0 {
		s.Timeout = 10 * time.Second
	}
	if s.MaxWait <= 0 {
		s.MaxWait = 30 * time.Minute
	}
	if s.Refetch == nil {
		s.Refetch = []time.Duration{2 * time.Minute, 10 * time.Minute, 30 * time.Minute}
	}
	if s.Retries == 0 {
		s.Retries = 2
	}
	if s.HoldBackoff == nil {
		s.HoldBackoff = DefaultHoldBackoff
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
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Validate reports what is wrong with s. The messages never quote the key.
func (s *SourceConfig) Validate() error {
	a, ok := apis[s.Provider]
	var errs []error
	add := func(f string, args ...any) {
		errs = append(errs, fmt.Errorf("enrich %s: "+f, append([]any{s.Name}, args...)...))
	}
	if s.Name == "" {
		add("empty source name")
	}
	if !ok {
		add("unknown provider %q", s.Provider)
	} else if !slices.Contains(a.auths, s.Auth) {
		add("auth %q not one of %v", s.Auth, a.auths)
	}
	if u, err := url.Parse(s.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("base_url must be an http(s) URL")
	}
	if s.APIKey == "" {
		add("empty api_key")
	}
	if s.Auth == AuthBasic && s.OrganizationID == "" {
		add("organization_id is required with basic auth")
	}
	if s.OnFailure != OnFailureForward && s.OnFailure != OnFailureHold {
		add("on_failure %q not forward or hold", s.OnFailure)
	}
	for _, g := range s.Events {
		if _, err := path.Match(g, ""); err != nil {
			add("events: bad pattern %q", g)
		}
	}
	if s.Retries < 0 {
		add("negative retries")
	}
	return errors.Join(errs...)
}
