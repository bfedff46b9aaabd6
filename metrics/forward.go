package metrics

import "time"

// Hooks for the forwarding package. They take plain values so forward
// needs no import of this package. Settled attempts and dead letters are
// counted by SettlerWith; ObserveForward and ObserveDeadLetter are there
// for callers that settle some other way. Enrichment counts itself
// (enrich.Metrics) and is exported through RegisterEnrich.

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
