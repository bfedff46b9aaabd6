package metrics

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// trailCollector reads the access trail's drop counters at each scrape.
type trailCollector struct {
	dropped func() map[string]uint64
	desc    *prometheus.Desc
}

// NewTrailCollector exports porch_access_trail_dropped_total{class}: the
// access-trail entries each class dropped to stay within its bound
// (inbox.Trail.TrailDropped has the shape of dropped). A rising sensitive
// class means records of exports or raw reads are being lost.
func NewTrailCollector(dropped func() map[string]uint64) prometheus.Collector {
	return &trailCollector{dropped: dropped, desc: prometheus.NewDesc(Namespace+"_access_trail_dropped_total",
		"Access-trail entries dropped to keep their class (search, sensitive) within its bound.", []string{"class"}, nil)}
}

func (c *trailCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *trailCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.dropped()
	classes := make([]string, 0, len(m))
	for k := range m {
		classes = append(classes, k)
	}
	sort.Strings(classes)
	for _, k := range classes {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(m[k]), k)
	}
}
