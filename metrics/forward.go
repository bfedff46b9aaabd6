package metrics

import "time"

// Hooks for the forwarding and enrichment packages. They take plain
// values so forward needs no import of this package: cmd/porch passes
// these methods as the forward/enrich packages' observer function values.

// ObserveForward records one forward attempt to destination: its outcome
// (a short fixed word such as "delivered", "retry", "failed", "dead") and
// how long the HTTP exchange took.
func (r *Registry) ObserveForward(destination, outcome string, d time.Duration) {
	r.forwardAttempts.WithLabelValues(destination, outcome).Inc()
	r.forwardLatency.WithLabelValues(destination).Observe(d.Seconds())
}

// ObserveDeadLetter records a forward given up after its last attempt.
func (r *Registry) ObserveDeadLetter(destination string) {
	r.deadLetters.WithLabelValues(destination).Inc()
}

// ObserveEnrich records one call to a provider API for source, with its
// outcome ("ok", "not_found", "error", "timeout", …) and duration.
func (r *Registry) ObserveEnrich(source, outcome string, d time.Duration) {
	r.enrichCalls.WithLabelValues(source, outcome).Inc()
	r.enrichLatency.WithLabelValues(source).Observe(d.Seconds())
}

// ObserveRateLimitWait records that an outgoing call to target (a
// destination or "<source>-api") waited d for its rate limiter. Call it
// only when d > 0.
func (r *Registry) ObserveRateLimitWait(target string, d time.Duration) {
	r.rateLimitWaits.WithLabelValues(target).Inc()
	r.rateLimitWait.WithLabelValues(target).Add(d.Seconds())
}
