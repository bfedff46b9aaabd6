package main

import (
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/metrics"
)

// openMetrics builds the registry served at /metrics on the admin
// listener: provider deadlines become ack-histogram buckets and the
// porch_provider_ack_deadline_seconds gauge, and the store is read at each
// scrape. Call it after the store is open.
func (m *Main) openMetrics() error {
	var deadlines []time.Duration
	for _, name := range gateway.ProviderNames() {
		def, _ := gateway.Lookup(name)
		deadlines = append(deadlines, def.Deadline)
	}
	m.Metrics = metrics.New(deadlines...)
	m.publishDeadlines(m.Config)
	if err := m.Metrics.Register(metrics.NewStoreCollector(m.DB, nil)); err != nil {
		return err
	}
	if err := m.Metrics.Register(metrics.NewTrailCollector(m.DB.TrailDropped)); err != nil {
		return err
	}
	// Enrichment and the ingest listener keep their own counters; both are
	// built later in Open (m.Enricher stays nil when no source enriches),
	// so they are looked up per scrape.
	return m.Metrics.Register(metrics.NewCounterSet(func(fn func(string, string, uint64)) {
		if m.Enricher != nil {
			m.Enricher.Metrics().Each(fn)
		}
		if m.Gateway != nil {
			m.Gateway.EachCounter(fn)
		}
	}))
}

// publishDeadlines sets the deadline gauge for cfg's sources only.
func (m *Main) publishDeadlines(cfg *Config) {
	m.Metrics.ResetAckDeadlines()
	for _, s := range cfg.Sources {
		if def, ok := gateway.Lookup(s.Provider); ok {
			m.Metrics.SetAckDeadline(s.Name, s.Provider, def.Deadline)
		}
	}
}

// observeDelivery is the gateway's Observe hook, nil without metrics.
func (m *Main) observeDelivery() func(gateway.Outcome) {
	if m.Metrics == nil {
		return nil
	}
	return m.Metrics.ObserveDelivery
}
