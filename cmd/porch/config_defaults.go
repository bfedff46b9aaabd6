package main

import (
	"path/filepath"
	"time"

	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/forward"
	"github.com/porchgw/porch/gateway"
	inboxbadger "github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/sender"
)

// The providers whose sources have keys of their own (the registry,
// gateway.ProviderNames, lists every provider accepted).
const (
	providerKoji   = sender.Koji
	providerGather = sender.Gather
)

// DefaultConfig returns the configuration used for every key the file omits.
// It has no sources, so on its own it does not validate.
// Values a package owns come from its defaults (gateway.DefaultConfig,
// the Badger engine's DefaultOptions); the rest are the file's own.
func DefaultConfig() *Config {
	g, o := gateway.DefaultConfig(), inboxbadger.DefaultOptions()
	return &Config{
		Listen:      g.Listen,
		AdminListen: "127.0.0.1:8081",
		DataDir:     "./porch-data",
		Store:       StoreConfig{Backend: backendBadger},
		Log:         LogConfig{Level: "info", Format: "json"},
		TLS:         TLSConfig{ACME: ACMEConfig{DirectoryURL: gateway.DefaultACMEDirectory}},
		Limits: LimitsConfig{
			MaxBodyBytes:      g.MaxBodyBytes,
			AckTimeout:        g.AckTimeout,
			ReadHeaderTimeout: g.ReadHeaderTimeout,
			ReadTimeout:       g.ReadTimeout,
			WriteTimeout:      g.WriteTimeout,
			IdleTimeout:       g.IdleTimeout,
			MaxHeaderBytes:    g.MaxHeaderBytes,
			ShutdownTimeout:   g.ShutdownTimeout,
			MaxInflightBytes:  g.MaxInflightBytes,
			MaxConnsPerClient: 256, // gateway's zero is unlimited; the file caps it
			MinFreeBytes:      o.MinFreeBytes,
		},
		Dedup: DedupConfig{Window: o.DedupWindow},
		Archive: ArchiveConfig{Retention: 2160 * time.Hour, RejectedLogSize: o.RejectedLogSize, RejectedLogBytes: o.RejectedLogBytes,
			AccessTrailSize: o.TrailLogSize, AccessTrailSearchSize: o.TrailSearchSize},
		Auth: AuthConfig{RateLimit: RateLimit{RPS: 10, Burst: 100}},
	}
}

// UnmarshalYAML fills a source's defaults before decoding it, and records
// which keys were written so gather-only keys can be checked.
func (s *Source) UnmarshalYAML(unmarshal func(any) error) error {
	var keys map[string]any
	_ = unmarshal(&keys) // only to learn which keys are present; errors come below
	type plain Source
	p := plain{Tolerance: gateway.DefaultTolerance, CanonicalFallback: true}
	if err := unmarshal(&p); err != nil {
		return err
	}
	*s = Source(p)
	s.explicit = make(map[string]bool, len(keys))
	for k := range keys {
		s.explicit[k] = true
	}
	for _, k := range blockKeys {
		if v, ok := keys[k]; ok && v == nil {
			s.empty = append(s.empty, k)
		}
	}
	if s.Enrich != nil {
		s.Enrich.fillProviderDefaults(s.Provider)
	}
	return nil
}

// UnmarshalYAML fills an enrich block's defaults before decoding it.
func (e *EnrichConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain EnrichConfig
	def := enrich.DefaultSourceConfig("")
	p := plain{OnFailure: def.OnFailure, Timeout: def.Timeout, MaxWait: def.MaxWait}
	if err := unmarshal(&p); err != nil {
		return err
	}
	*e = EnrichConfig(p)
	return nil
}

// fillProviderDefaults sets base_url, auth and events when omitted, from
// enrich's defaults for the provider.
func (e *EnrichConfig) fillProviderDefaults(provider string) {
	d := enrich.DefaultSourceConfig(provider)
	if e.BaseURL == "" {
		e.BaseURL = d.BaseURL
	}
	if e.Auth == "" {
		e.Auth = d.Auth
	}
	if e.Events == nil {
		e.Events = d.Events
	}
}

// UnmarshalYAML fills a reconcile block's defaults before decoding it.
func (r *ReconcileConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain ReconcileConfig
	p := plain{Lookback: enrich.DefaultLookback}
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
