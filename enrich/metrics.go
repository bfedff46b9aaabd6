package enrich

import "sync/atomic"

// Metrics are plain counters, safe for concurrent use. They only grow.
// Each lists them with names and help text, for registering with
// Prometheus as counter functions.
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

// Each calls fn for every counter with a Prometheus-style name and help.
func (m *Metrics) Each(fn func(name, help string, value uint64)) {
	for _, c := range []struct {
		name, help string
		v          *atomic.Uint64
	}{
		{"porch_enrich_requests_total", "HTTP requests sent to provider APIs.", &m.Requests},
		{"porch_enrich_rate_limited_total", "Provider API answers with status 429.", &m.RateLimited},
		{"porch_enrich_server_errors_total", "Provider API answers with a 5xx status.", &m.ServerErrors},
		{"porch_enrich_network_errors_total", "Provider API requests that got no answer.", &m.NetworkErrors},
		{"porch_enrich_retries_total", "In-call retries of provider API requests.", &m.Retries},
		{"porch_enrich_deferred_total", "Provider API requests put off by the rate limit.", &m.Deferred},
		{"porch_enrich_enriched_total", "Events forwarded with their full interview record.", &m.Enriched},
		{"porch_enrich_processing_total", "Fetches answered still processing; a re-fetch was scheduled.", &m.Processing},
		{"porch_enrich_incomplete_total", "Events forwarded with a record that never finished processing.", &m.Incomplete},
		{"porch_enrich_failed_total", "Events forwarded without a record because the API kept failing.", &m.Failed},
		{"porch_enrich_held_total", "Failed fetches of events held for a later retry.", &m.Held},
		{"porch_enrich_store_errors_total", "Enrichment records that could not be stored.", &m.StoreErrors},
		{"porch_reconcile_runs_total", "Reconciliation runs completed.", &m.ReconcileRuns},
		{"porch_reconcile_errors_total", "Reconciliation runs that failed.", &m.ReconcileErrors},
		{"porch_reconcile_created_total", "Events created by reconciliation.", &m.ReconcileCreated},
		{"porch_reconcile_skipped_total", "Listed interviews skipped for lack of a completion time.", &m.ReconcileSkipped},
	} {
		fn(c.name, c.help, c.v.Load())
	}
}
