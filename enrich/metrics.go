package enrich

import "sync/atomic"

// Metrics are plain counters, safe for concurrent use. They only grow.
// Package metrics names them and exports them, reading them at each
// scrape, so enrich needs no Prometheus import.
type Metrics struct {
	Requests      atomic.Uint64 // HTTP requests sent to provider APIs
	RateLimited   atomic.Uint64 // 429 answers
	ServerErrors  atomic.Uint64 // 5xx answers
	NetworkErrors atomic.Uint64 // requests with no answer (timeout, refused, ...)
	Retries       atomic.Uint64 // in-call retries after 429, 5xx or a network error
	Deferred      atomic.Uint64 // requests put off because the rate limit would block too long

	Enriched    atomic.Uint64 // events that got their full record
	Processing  atomic.Uint64 // fetches answered "still processing" (a re-fetch was scheduled)
	Incomplete  atomic.Uint64 // events forwarded with a record that never finished processing
	Failed      atomic.Uint64 // events forwarded without a record (on_failure: forward)
	Held        atomic.Uint64 // failed fetches of events held for a later retry (on_failure: hold)
	StoreErrors atomic.Uint64 // enrichment records that could not be stored

	ReconcileRuns    atomic.Uint64 // reconciliation runs completed
	ReconcileErrors  atomic.Uint64 // reconciliation runs that failed
	ReconcileCreated atomic.Uint64 // events created by reconciliation
	ReconcileSkipped atomic.Uint64 // listed interviews skipped: no completion time to key them by
}
