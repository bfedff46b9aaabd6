package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "porch"

// ackBuckets are the ack latency buckets (seconds) before the providers'
// deadlines are added, so that "answered within the deadline" is a bucket
// boundary.
var ackBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3}

// forwardBuckets are the forward attempt latency buckets (seconds).
var forwardBuckets = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Registry holds porch's collectors in a non-global prometheus.Registry.
type Registry struct {
	reg *prometheus.Registry

	deliveries    *prometheus.CounterVec
	ackLatency    *prometheus.HistogramVec
	ackDeadline   *prometheus.GaugeVec
	dedupHits     *prometheus.CounterVec
	verifications *prometheus.CounterVec

	forwardAttempts *prometheus.CounterVec
	forwardLatency  *prometheus.HistogramVec
	deadLetters     *prometheus.CounterVec

	reloads   *prometheus.CounterVec
	buildInfo *prometheus.GaugeVec

	// destinations are the configured ones (SetConfigured), read by the
	// store collector at each scrape.
	destinations atomic.Pointer[[]string]
}

// New builds a Registry with the Go runtime and process collectors. Pass
// the ack deadlines (seconds) the configured providers impose, so their
// values are histogram bucket boundaries; see SetAckDeadline.
func New(deadlines ...time.Duration) *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.ingestCollectors(deadlines)
	r.forwardCollectors()
	r.reloads = r.counter("config_reloads_total", "Config reloads by outcome (ok, refused).", "outcome")
	r.reloads.WithLabelValues("ok")
	r.reloads.WithLabelValues("refused")
	r.buildInfo = r.gauge("build_info", "Always 1; the labels say which build is running (as porch version reports it).", "version", "commit", "goversion")
	return r
}

func (r *Registry) ingestCollectors(deadlines []time.Duration) {
	buckets := slices.Clone(ackBuckets)
	for _, d := range deadlines {
		buckets = append(buckets, d.Seconds())
	}
	slices.Sort(buckets)
	buckets = slices.Compact(buckets)
	r.deliveries = r.counter("deliveries_total",
		"Ingest requests by source, event type and outcome (accepted, duplicate, quarantined, control, rejected, forbidden, rate_limited, too_large, unavailable, unknown_source, bad_request, error).",
		"source", "event", "outcome")
	r.ackLatency = r.histogram("ack_duration_seconds",
		"Time from request to answer on the ingest listener, per source; compare with porch_provider_ack_deadline_seconds.",
		buckets, "source")
	r.ackDeadline = r.gauge("provider_ack_deadline_seconds", "The provider's documented deadline for answering a delivery.", "source", "provider")
	// Requests to an unknown source all share one series.
	r.deliveries.WithLabelValues(gateway.UnknownSource, "", gateway.ResultUnknownSource)
	r.dedupHits = r.counter("dedup_hits_total", "Authentic deliveries recognised as duplicates, per source.", "source")
	r.verifications = r.counter("verifications_total",
		"Authentic deliveries by how the signature matched (mode raw or canonical) and which configured secret matched (index into the source's secrets).",
		"source", "mode", "secret_index")
}

func (r *Registry) forwardCollectors() {
	r.forwardAttempts = r.counter("forward_attempts_total", "Settled forward attempts per destination by outcome (delivered, retry, dead).", "destination", "outcome")
	r.forwardLatency = r.histogram("forward_duration_seconds", "Duration of one forward attempt, per destination.", forwardBuckets, "destination")
	r.deadLetters = r.counter("dead_letters_total", "Forwards given up after max_attempts (dead-lettered), per destination.", "destination")
}

func (r *Registry) counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	r.reg.MustRegister(c)
	return c
}

func (r *Registry) gauge(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	r.reg.MustRegister(g)
	return g
}

func (r *Registry) histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	r.reg.MustRegister(h)
	return h
}

// Handler serves the registry in the Prometheus text format; mount it as
// admin.Config.Metrics.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// Gatherer exposes the registry to tests and to extra collectors.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Register adds a collector, such as NewStoreCollector's.
func (r *Registry) Register(c prometheus.Collector) error { return r.reg.Register(c) }

// SetAckDeadline publishes a source's provider deadline (call it for each
// configured source at start and after each reload).
func (r *Registry) SetAckDeadline(source, provider string, d time.Duration) {
	r.ackDeadline.WithLabelValues(source, provider).Set(d.Seconds())
}

// SetBuildInfo publishes porch_build_info with the running build's
// version, commit and Go version.
func (r *Registry) SetBuildInfo(version, commit, goVersion string) {
	r.buildInfo.Reset()
	r.buildInfo.WithLabelValues(version, commit, goVersion).Set(1)
}

// ResetAckDeadlines forgets every published deadline, before a reload
// sets the new sources' ones.
func (r *Registry) ResetAckDeadlines() { r.ackDeadline.Reset() }

// ObserveDelivery is gateway.Config.Observe: one call per ingest request.
func (r *Registry) ObserveDelivery(o gateway.Outcome) {
	r.deliveries.WithLabelValues(o.Source, o.Event, o.Result).Inc()
	r.ackLatency.WithLabelValues(o.Source).Observe(o.Duration.Seconds())
	if o.Duplicate {
		r.dedupHits.WithLabelValues(o.Source).Inc()
	}
	if o.SigMode != "" {
		r.verifications.WithLabelValues(o.Source, o.SigMode, strconv.Itoa(o.SecretIndex)).Inc()
	}
}

// ObserveReload counts a config reload; ok is false when it was refused.
func (r *Registry) ObserveReload(ok bool) {
	outcome := "ok"
	if !ok {
		outcome = "refused"
	}
	r.reloads.WithLabelValues(outcome).Inc()
}
