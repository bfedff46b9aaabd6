package main

import (
	"runtime"
	"time"

	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/metrics"
)

// openMetrics builds the registry served at /metrics on the admin
// listener: provider deadlines become ack-histogram buckets, the
// configured sources and destinations get their series at 0, and the
// store is read at each scrape. Call it after the store is open.
func (m *Main) openMetrics() error {
	var deadlines []time.Duration
	for _, name := range gateway.ProviderNames() {
		def, _ := gateway.Lookup(name)
		deadlines = append(deadlines, def.Deadline)
	}
	m.Metrics = metrics.New(deadlines...)
	v, c := builtFrom()
	m.Metrics.SetBuildInfo(v, c, runtime.Version())
	m.publishConfigured(m.Config)
	if err := m.Metrics.RegisterStore(m.DB, nil); err != nil {
		return err
	}
	if err := m.Metrics.Register(metrics.NewTrailCollector(m.DB.TrailDropped)); err != nil {
		return err
	}
	// Enrichment and the ingest listener keep their own counters; both are
	// built later in Open, so they are looked up per scrape. With no
	// enriching source m.Enricher stays nil and its counters read 0, so
	// the alerts on them still have a series.
	if err := m.Metrics.RegisterEnrich(func() *enrich.Metrics {
		if m.Enricher == nil {
			return nil
		}
		return m.Enricher.Metrics()
	}); err != nil {
		return err
	}
	return m.Metrics.RegisterIngest(func() gateway.Protection {
		if m.Gateway == nil {
			return gateway.Protection{}
		}
		return m.Gateway.Protection()
	})
}

// publishConfigured declares cfg's sources and destinations to the
// metrics: their series start at 0 and the deadline gauge names only
// these sources.
func (m *Main) publishConfigured(cfg *Config) {
	srcs := make([]metrics.Source, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		srcs = append(srcs, metrics.Source{Name: s.Name, Provider: s.Provider, Secrets: len(s.Secrets), Canonical: s.CanonicalFallback})
	}
	dests := make([]string, 0, len(cfg.Destinations))
	for _, d := range cfg.Destinations {
		dests = append(dests, d.Name)
	}
	m.Metrics.SetConfigured(srcs, dests)
}

// observeDelivery is the gateway's Observe hook, nil without metrics.
func (m *Main) observeDelivery() func(gateway.Outcome) {
	if m.Metrics == nil {
		return nil
	}
	return m.Metrics.ObserveDelivery
}
