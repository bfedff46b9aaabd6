package main

import (
	"errors"
	"regexp"
	"time"

	"github.com/porchgw/porch/gateway"
)

// reName is the allowed shape of source names (forward owns destination names).
var reName = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (c *Config) validateSources(p *problems) {
	if len(c.Sources) == 0 {
		p.add("sources", "at least one source is required")
	}
	seen := make(map[string]bool)
	for i := range c.Sources {
		key := indexKey("sources", i)
		s := &c.Sources[i]
		checkName(p, joinKey(key, "name"), s.Name, seen)
		c.validateSource(p, key, s)
	}
}

// checkName enforces the name shape and uniqueness within one list.
func checkName(p *problems, key, name string, seen map[string]bool) {
	switch {
	case !reName.MatchString(name):
		p.add(key, "%q must match [a-z0-9_-]+", name)
	case seen[name]:
		p.add(key, "duplicate name %q", name)
	}
	seen[name] = true
}

func (c *Config) validateSource(p *problems, key string, s *Source) {
	checkOneOf(p, joinKey(key, "provider"), s.Provider, gateway.ProviderNames()...)
	c.addFieldErrors(p, key, unwrapOne(gateway.ProviderConfig{Secrets: s.Secrets}.Validate()))
	gather := s.Provider == providerGather
	for _, o := range providerOnly {
		if s.explicit[o.key] && s.Provider != o.provider && s.Provider != "" {
			p.add(joinKey(key, o.key), "only for %s sources", o.provider)
		}
	}
	checkPositive(p, joinKey(key, "tolerance"), s.Tolerance)
	c.checkReplayWindow(p, key, s)
	checkIPNets(p, joinKey(key, "allow_cidrs"), s.AllowCIDRs)
	checkRate(p, joinKey(key, "rate_limit"), s.RateLimit)
	for _, k := range s.empty {
		p.add(joinKey(key, k), "empty; remove the key or fill it in")
	}
	if s.Enrich != nil {
		c.validateEnrich(p, joinKey(key, "enrich"), s.Provider, s.Enrich)
	}
	if s.Reconcile != nil && gather {
		validateReconcile(p, key, s)
	}
}

// checkReplayWindow keeps every accepted timestamp inside the dedup
// window: a delivery stays acceptable for as long as its timestamp may lag
// plus as long as it may lead, and if that outlasted the dedup key, a
// captured delivery could be replayed as a new event once the key expired.
func (c *Config) checkReplayWindow(p *problems, key string, s *Source) {
	w := c.Dedup.Window
	if w <= 0 {
		return // dedup.window is reported on its own
	}
	switch s.Provider {
	case providerKoji:
		k := joinKey(key, "max_body_age")
		switch {
		case s.MaxBodyAge <= 0 && !s.explicit["max_body_age"]:
			p.add(k, "dedup.window %s is too short: a koji source needs it above %s (clock skew allowed for body timestamps)", w, gateway.MaxFutureSkew)
		case s.MaxBodyAge <= 0:
			p.add(k, "must be above 0, got %s", s.MaxBodyAge)
		case s.MaxBodyAge+gateway.MaxFutureSkew > w:
			p.add(k, "%s plus %s of allowed clock skew is longer than dedup.window %s: a captured delivery could be replayed as new once its dedup key expired", s.MaxBodyAge, gateway.MaxFutureSkew, w)
		}
	case providerGather:
		if 2*s.Tolerance > w {
			p.add(joinKey(key, "tolerance"), "%s either side of now spans more than dedup.window %s: a captured delivery could be replayed as new once its dedup key expired", s.Tolerance, w)
		}
	}
}

// validateEnrich maps the enrich block onto enrich's and reports what
// enrich's check finds under the block's keys.
func (c *Config) validateEnrich(p *problems, key, provider string, e *EnrichConfig) {
	sc := e.enrich("", provider)
	var errs []error
	for _, err := range unjoin(sc.Check()) {
		if f, _ := fieldOf(err); f != "provider" { // sources[].provider is checked on its own
			errs = append(errs, err)
		}
	}
	c.addFieldErrors(p, key, errors.Join(errs...))
}

func validateReconcile(p *problems, key string, s *Source) {
	r := s.Reconcile
	key = joinKey(key, "reconcile")
	if s.Enrich == nil {
		p.add(key, "requires enrich (it uses enrich.base_url and enrich.api_key)")
	}
	if r.Interval < 0 || (r.Interval > 0 && r.Interval < time.Minute) {
		p.add(joinKey(key, "interval"), "must be 0 (off) or at least 1m, got %s", r.Interval)
	}
	checkPositive(p, joinKey(key, "lookback"), r.Lookback)
}

func checkRate(p *problems, key string, r RateLimit) {
	if r.RPS < 0 {
		p.add(joinKey(key, "rps"), "must be 0 (off) or positive")
	}
	if r.Burst < 0 {
		p.add(joinKey(key, "burst"), "must be 0 or positive")
	}
}
