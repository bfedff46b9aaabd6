package main

import (
	"errors"
	"time"

	"github.com/porchgw/porch/forward"
)

// validateDestinations maps every destination onto forward's and reports
// what forward's check finds, each problem under its YAML key path.
func (c *Config) validateDestinations(p *problems) {
	fc := forward.Config{Destinations: c.forwardDestinations()}
	for _, err := range unjoin(fc.Check()) {
		var de *forward.DestinationError
		if !errors.As(err, &de) {
			p.add("destinations", "%s", err.Error())
			continue
		}
		c.addFieldErrors(p, indexKey("destinations", de.Index), de.Err)
	}
}

// forwardDestinations maps the YAML destinations onto forward's.
func (c *Config) forwardDestinations() []forward.Destination {
	out := make([]forward.Destination, 0, len(c.Destinations))
	for _, d := range c.Destinations {
		out = append(out, d.forward())
	}
	return out
}

func (d Destination) forward() forward.Destination {
	return forward.Destination{
		Name: d.Name, URL: d.URL, Match: d.Match, Format: d.Format, Secret: d.Secret,
		Timeout: d.Timeout, MaxAttempts: d.MaxAttempts, Concurrency: d.Concurrency,
		RateLimit: forward.RateLimit{RPS: d.RateLimit.RPS, Burst: d.RateLimit.Burst},
		Backoff:   forward.BackoffConfig{Initial: d.Backoff.Initial, Max: d.Backoff.Max},
		Circuit:   forward.CircuitConfig{Failures: d.Circuit.Failures, Cooldown: d.Circuit.Cooldown},
	}
}

// destinationFromForward is the YAML form of a forward destination, for
// the defaults a destination block starts from.
func destinationFromForward(d forward.Destination) Destination {
	return Destination{
		Name: d.Name, URL: d.URL, Match: d.Match, Format: d.Format, Secret: d.Secret,
		Timeout: d.Timeout, MaxAttempts: d.MaxAttempts, Concurrency: d.Concurrency,
		RateLimit: RateLimit{RPS: d.RateLimit.RPS, Burst: d.RateLimit.Burst},
		Backoff:   BackoffConfig{Initial: d.Backoff.Initial, Max: d.Backoff.Max},
		Circuit:   CircuitConfig{Failures: d.Circuit.Failures, Cooldown: d.Circuit.Cooldown},
	}
}

// RetryHorizon returns the longest total backoff any destination may spend
// before dead-lettering (forward.Destination.RetryHorizon).
func (c *Config) RetryHorizon() time.Duration {
	var longest time.Duration
	for _, d := range c.Destinations {
		longest = max(longest, d.forward().RetryHorizon())
	}
	return longest
}
