package metrics

import "github.com/prometheus/client_golang/prometheus"

// CounterSource lists counters by calling fn once per counter with its
// full metric name, help text and current value (enrich.Metrics.Each has
// this shape).
type CounterSource func(fn func(name, help string, value uint64))

// NewCounterSet exports the counters a package keeps itself (plain atomic
// counters) without that package importing Prometheus: they are read at
// each scrape. The set may be empty (say, enrichment is not configured).
// It is an unchecked collector: names are not known ahead of a scrape.
func NewCounterSet(src CounterSource) prometheus.Collector { return counterSet(src) }

type counterSet CounterSource

func (counterSet) Describe(chan<- *prometheus.Desc) {}

func (c counterSet) Collect(ch chan<- prometheus.Metric) {
	c(func(name, help string, v uint64) {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, float64(v))
	})
}
