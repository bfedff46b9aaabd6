package main

import (
	"context"
	"fmt"

	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/forward"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/sender"
)

// The store behind enrichment and reconciliation.
var (
	_ enrich.Store          = inbox.Store(nil)
	_ enrich.ReconcileStore = inbox.Store(nil)
)

// enrichConfig maps every source's enrich block onto enrich.Config; ok is
// false when no source enriches.
func (m *Main) enrichConfig() (cfg enrich.Config, ok bool) {
	for _, s := range m.Config.Sources {
		e := s.Enrich
		if e == nil {
			continue
		}
		cfg.Sources = append(cfg.Sources, e.enrich(s.Name, s.Provider))
	}
	cfg.Logger = m.Log
	return cfg, len(cfg.Sources) > 0
}

// enrich maps one source's enrich block onto enrich's.
func (e *EnrichConfig) enrich(source, provider string) enrich.SourceConfig {
	return enrich.SourceConfig{
		Name: source, Provider: provider, BaseURL: e.BaseURL, APIKey: e.APIKey, Auth: e.Auth,
		OrganizationID: e.OrganizationID, Events: e.Events, OnFailure: e.OnFailure,
		Timeout: e.Timeout, MaxWait: e.MaxWait,
	}
}

// openEnrich builds the Enricher (nil when no source enriches) and one
// Reconciler per gather source with reconcile.interval set.
func (m *Main) openEnrich() error {
	cfg, ok := m.enrichConfig()
	if !ok {
		return nil
	}
	en, err := enrich.New(cfg, m.DB)
	if err != nil {
		return fmt.Errorf("enrichment: %w", err)
	}
	m.Enricher = en
	for _, s := range m.Config.Sources {
		if s.Reconcile == nil || s.Reconcile.Interval <= 0 {
			continue
		}
		r, err := en.NewReconciler(enrich.ReconcileConfig{
			Source: s.Name, Interval: s.Reconcile.Interval, Lookback: s.Reconcile.Lookback,
			MaxAge: m.Config.Dedup.Window, Route: forward.Router(m.Config.forwardDestinations()),
			Recreate: recreateGather,
		}, m.DB)
		if err != nil {
			return fmt.Errorf("reconciliation: %w", err)
		}
		m.Reconcilers = append(m.Reconcilers, r)
		m.reconciled = append(m.reconciled, s.Name)
	}
	return nil
}

// recreateGather builds the delivery Gather would have sent for a
// completion the reconciler found (sender) and keys it as the gateway
// keys a real one (gateway.Inspect).
func recreateGather(c enrich.Completion) ([]byte, []string, error) {
	body := sender.GatherCompleted(sender.CandidateInterview(c))
	f, err := gateway.Inspect(providerGather, body)
	return body, f.DedupKeys, err
}

// prepareFunc adapts the Enricher to the forwarder's Prepare seam; nil
// (no enrichment) when en is nil. enrich.Outcome and
// forward.PrepareResult have the same fields, so it is a conversion.
func prepareFunc(en *enrich.Enricher) forward.PrepareFunc {
	if en == nil {
		return nil
	}
	return func(ctx context.Context, ev *inbox.Event) (forward.PrepareResult, error) {
		out, err := en.Prepare(ctx, ev)
		return forward.PrepareResult(out), err
	}
}
