package main

import (
	"path/filepath"
	"time"

	"github.com/porchgw/porch/forward"
	"github.com/porchgw/porch/gateway"
)

// Provider names accepted in sources[].provider.
const (
	providerKoji   = "koji"
	providerGather = "gather"
)

// providerDefaults are the enrichment defaults that depend on the provider.
var providerDefaults = map[string]struct {
	baseURL string
	auth    string
	events  []string
}{
	providerKoji:   {"https://koji.so/api/v1", "bearer", []string{"interview.analysis_ready"}},
	providerGather: {"https://api.prod.qualifi.hr", "x-api-key", []string{"candidate_interview.completed"}},
}

// DefaultConfig returns the configuration used for every key the file omits.
// It has no sources, so on its own it does not validate.
func DefaultConfig() *Config {
	return &Config{
		Listen:      "127.0.0.1:8080",
		AdminListen: "127.0.0.1:8081",
		DataDir:     "./porch-data",
		Store:       StoreConfig{Backend: backendBadger},
		Log:         LogConfig{Level: "info", Format: "json"},
		TLS: TLSConfig{ACME: ACMEConfig{
			DirectoryURL: "https://acme-v02.api.letsencrypt.org/directory",
		}},
		Limits: LimitsConfig{
			MaxBodyBytes:      1 << 20,
			AckTimeout:        3 * time.Second,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       60 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ShutdownTimeout:   15 * time.Second,
			MaxInflightBytes:  32 << 20,
			MaxConnsPerClient: 256,
			MinFreeBytes:      64 << 20,
		},
		Dedup: DedupConfig{Window: 168 * time.Hour},
		Archive: ArchiveConfig{Retention: 2160 * time.Hour, RejectedLogSize: 10000, RejectedLogBytes: 16 << 20,
			AccessTrailSize: 1000000, AccessTrailSearchSize: 100000},
		Auth: AuthConfig{RateLimit: RateLimit{RPS: 10, Burst: 100}},
	}
}

// UnmarshalYAML fills a source's defaults before decoding it, and records
// which keys were written so gather-only keys can be checked.
func (s *Source) UnmarshalYAML(unmarshal func(any) error) error {
	var keys map[string]any
	_ = unmarshal(&keys) // only to learn which keys are present; errors come below
	type plain Source
	p := plain{Tolerance: 15 * time.Minute, CanonicalFallback: true}
	if err := unmarshal(&p); err != nil {
		return err
	}
	*s = Source(p)
	s.explicit = make(map[string]bool, len(keys))
	for k := range keys {
		s.explicit[k] = true
	}
	if s.Enrich != nil {
		s.Enrich.fillProviderDefaults(s.Provider)
	}
	return nil
}

// UnmarshalYAML fills an enrich block's defaults before decoding it.
func (e *EnrichConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain EnrichConfig
	p := plain{OnFailure: "forward", Timeout: 10 * time.Second, MaxWait: 30 * time.Minute}
	if err := unmarshal(&p); err != nil {
		return err
	}
	*e = EnrichConfig(p)
	return nil
}

// fillProviderDefaults sets base_url, auth and events when omitted.
func (e *EnrichConfig) fillProviderDefaults(provider string) {
	d, ok := providerDefaults[provider]
	if !ok {
		return
	}
	if e.BaseURL == "" {
		e.BaseURL = d.baseURL
	}
	if e.Auth == "" {
		e.Auth = d.auth
	}
	if e.Events == nil {
		e.Events = append([]string(nil), d.events...)
	}
}

// UnmarshalYAML fills a reconcile block's defaults before decoding it.
func (r *ReconcileConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain ReconcileConfig
	p := plain{Lookback: 24 * time.Hour}
	if err := unmarshal(&p); err != nil {
		return err
	}
	*r = ReconcileConfig(p)
	return nil
}

// UnmarshalYAML fills a destination's defaults before decoding it.
func (d *Destination) UnmarshalYAML(unmarshal func(any) error) error {
	type plain Destination
	p := plain(destinationFromForward(forward.DefaultDestination()))
	if err := unmarshal(&p); err != nil {
		return err
	}
	*d = Destination(p)
	return nil
}

// UnmarshalYAML decodes a rate limit and defaults burst to max(1, rps).
func (r *RateLimit) UnmarshalYAML(unmarshal func(any) error) error {
	type plain RateLimit
	var p plain
	if err := unmarshal(&p); err != nil {
		return err
	}
	*r = RateLimit(p)
	if r.Burst == 0 && r.RPS > 0 {
		r.Burst = forward.DefaultBurst(r.RPS)
	}
	return nil
}

// fillDerived sets defaults that depend on other keys.
func (c *Config) fillDerived() {
	if c.TLS.ACME.CacheDir == "" {
		c.TLS.ACME.CacheDir = filepath.Join(c.DataDir, "acme")
	}
	for i := range c.Sources {
		if s := &c.Sources[i]; s.Provider == providerKoji && !s.explicit["max_body_age"] {
			s.MaxBodyAge = defaultMaxBodyAge(c.Dedup.Window)
		}
	}
}

// defaultMaxBodyAge is the oldest Koji body timestamp accepted when
// max_body_age is not set: gateway.DefaultMaxBodyAge, or less when
// dedup.window is shorter, so that a delivery is refused as stale before
// its dedup key expires. It is 0 (refused by validation) when the window
// leaves no room at all.
func defaultMaxBodyAge(window time.Duration) time.Duration {
	return max(0, min(gateway.DefaultMaxBodyAge, window-gateway.MaxFutureSkew))
}
