package metrics

import (
	"errors"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/prometheus/client_golang/prometheus"
)

// Store is what the store collector reads at each scrape. Every
// inbox.Store implements it; both methods are called concurrently and must be cheap.
type Store interface {
	DiskSize() (int64, error)
	FreeBytes() (int64, error)
	Ready() error
	OutboxStats() (map[string]inbox.OutboxStat, error)
}

var _ Store = inbox.Store(nil)

// storeCollector reads the store's size and backlog when scraped.
type storeCollector struct {
	store Store
	now   func() time.Time
	known func() []string // destinations reported even with nothing pending

	size, free, ready, depth, oldest *prometheus.Desc
	errors                           prometheus.Counter
}

// NewStoreCollector reports the store's size on disk and, per destination
// with forwards pending, the outbox depth and the age of the oldest
// pending forward. Register it with Registry.Register, or use
// Registry.RegisterStore to report every configured destination.
func NewStoreCollector(s Store, now func() time.Time) prometheus.Collector {
	return newStoreCollector(s, now)
}

// RegisterStore registers the store collector for s, reporting the
// destinations of the last SetConfigured at 0 while nothing is pending
// for them, so their series exist from the start.
func (r *Registry) RegisterStore(s Store, now func() time.Time) error {
	c := newStoreCollector(s, now)
	c.known = r.configuredDestinations
	return r.reg.Register(c)
}

func newStoreCollector(s Store, now func() time.Time) *storeCollector {
	if now == nil {
		now = time.Now
	}
	return &storeCollector{
		store: s, now: now,
		size: prometheus.NewDesc(Namespace+"_store_size_bytes",
			"Bytes the store's files take on disk in data_dir (allocated blocks, not the apparent size of sparse files).", nil, nil),
		free: prometheus.NewDesc(Namespace+"_store_free_bytes",
			"Bytes free for the store in data_dir; intake stops (503) below the reserve.", nil, nil),
		ready: prometheus.NewDesc(Namespace+"_store_ready",
			"1 when the store takes deliveries, 0 when it refuses them (closed, failed sync, disk low).", nil, nil),
		depth: prometheus.NewDesc(Namespace+"_outbox_depth",
			"Forwards pending (queued or waiting to retry), per destination.", []string{"destination"}, nil),
		oldest: prometheus.NewDesc(Namespace+"_outbox_oldest_pending_seconds",
			"Age of the oldest event still pending, per destination (0 when none).", []string{"destination"}, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "store_scrape_errors_total",
			Help: "Scrapes that could not read the store size or outbox backlog."}),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.size
	ch <- c.free
	ch <- c.ready
	ch <- c.depth
	ch <- c.oldest
	c.errors.Describe(ch)
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.gauge(ch, c.size, c.store.DiskSize)
	c.gauge(ch, c.free, c.store.FreeBytes)
	ready := 1.0
	if c.store.Ready() != nil {
		ready = 0
	}
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, ready)
	c.collectOutbox(ch)
	c.errors.Collect(ch)
}

// gauge reports what read returns as d. A value the store engine cannot
// tell (free bytes on PostgreSQL, whose disk is the database server's) is
// left out rather than counted as an error.
func (c *storeCollector) gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, read func() (int64, error)) {
	v, err := read()
	switch {
	case err == nil:
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	case !errors.Is(err, inbox.ErrUnsupported):
		c.errors.Inc()
	}
}

// collectOutbox reports the backlog of every destination with forwards
// pending and of every known one, the latter at 0 when idle.
func (c *storeCollector) collectOutbox(ch chan<- prometheus.Metric) {
	stats, err := c.store.OutboxStats()
	if err != nil {
		c.errors.Inc()
		return
	}
	if stats == nil {
		stats = make(map[string]inbox.OutboxStat)
	}
	if c.known != nil {
		for _, dest := range c.known() {
			if _, ok := stats[dest]; !ok {
				stats[dest] = inbox.OutboxStat{}
			}
		}
	}
	now := c.now()
	for dest, st := range stats {
		age := 0.0
		if !st.Oldest.IsZero() {
			age = now.Sub(st.Oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(st.Depth), dest)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, dest)
	}
}
