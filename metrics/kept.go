package metrics

import (
	"sync/atomic"

	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/gateway"
	"github.com/prometheus/client_golang/prometheus"
)

// keptCounter is a counter its component keeps as a plain number (it
// needs the count itself, or its tests read it), exported by reading it
// at each scrape.
type keptCounter struct {
	desc *prometheus.Desc
	read func() uint64
}

func kept(name, help string, read func() uint64) keptCounter {
	return keptCounter{desc: prometheus.NewDesc(Namespace+"_"+name, help, nil, nil), read: read}
}

// keptCounters is a checked collector: Describe lists every series, so
// the registry refuses a name clash at Register, not at a scrape.
type keptCounters []keptCounter

func (c keptCounters) Describe(ch chan<- *prometheus.Desc) {
	for _, k := range c {
		ch <- k.desc
	}
}

func (c keptCounters) Collect(ch chan<- prometheus.Metric) {
	for _, k := range c {
		ch <- prometheus.MustNewConstMetric(k.desc, prometheus.CounterValue, float64(k.read()))
	}
}

// enrichCounters are enrich.Metrics' fields with their series names and
// help text.
var enrichCounters = []struct {
	name, help string
	field      func(*enrich.Metrics) *atomic.Uint64
}{
	{"enrich_requests_total", "HTTP requests sent to provider APIs.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.Requests }},
	{"enrich_rate_limited_total", "Provider API answers with status 429.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.RateLimited }},
	{"enrich_server_errors_total", "Provider API answers with a 5xx status.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.ServerErrors }},
	{"enrich_network_errors_total", "Provider API requests that got no answer.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.NetworkErrors }},
	{"enrich_retries_total", "In-call retries of provider API requests.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.Retries }},
	{"enrich_deferred_total", "Provider API requests put off by the rate limit.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.Deferred }},
	{"enrich_enriched_total", "Events forwarded with their full interview record.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.Enriched }},
	{"enrich_processing_total", "Fetches answered still processing; a re-fetch was scheduled.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.Processing }},
	{"enrich_incomplete_total", "Events forwarded with a record that never finished processing.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.Incomplete }},
	{"enrich_failed_total", "Events forwarded without a record because the API kept failing.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.Failed }},
	{"enrich_held_total", "Failed fetches of events held for a later retry.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.Held }},
	{"enrich_store_errors_total", "Enrichment records that could not be stored.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.StoreErrors }},
	{"reconcile_runs_total", "Reconciliation runs completed.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.ReconcileRuns }},
	{"reconcile_errors_total", "Reconciliation runs that failed.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.ReconcileErrors }},
	{"reconcile_created_total", "Events created by reconciliation.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.ReconcileCreated }},
	{"reconcile_skipped_total", "Listed interviews skipped for lack of a completion time.", func(m *enrich.Metrics) *atomic.Uint64 { return &m.ReconcileSkipped }},
}

// RegisterEnrich exports enrichment's counters, read through get at each
// scrape. get may return nil (no source enriches, or the enricher is not
// built yet): the counters then read 0, so alerts on them have a series.
func (r *Registry) RegisterEnrich(get func() *enrich.Metrics) error {
	c := make(keptCounters, 0, len(enrichCounters))
	for _, e := range enrichCounters {
		c = append(c, kept(e.name, e.help, func() uint64 {
			if m := get(); m != nil {
				return e.field(m).Load()
			}
			return 0
		}))
	}
	return r.reg.Register(c)
}

// RegisterIngest exports the ingest listener's protection counters, read
// through get at each scrape (get may return the zero Protection before
// the listener is built).
func (r *Registry) RegisterIngest(get func() gateway.Protection) error {
	return r.reg.Register(keptCounters{
		kept("ingest_uploads_cut_total", "Uploads cut before their body arrived, to make room in the in-flight body budget for newer ones.",
			func() uint64 { return get().UploadsCut }),
		kept("ingest_budget_full_total", "Requests answered 503 because the in-flight body budget stayed full for ack_timeout.",
			func() uint64 { return get().BudgetFull }),
		kept("ingest_connections_refused_total", "Connections closed on accept because their client address held max_conns_per_client.",
			func() uint64 { return get().ConnsRefused }),
	})
}
