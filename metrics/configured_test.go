package metrics_test

import (
	"testing"

	"github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/metrics"
	dto "github.com/prometheus/client_model/go"
)

func gather(t *testing.T, reg *metrics.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

type series struct {
	name   string
	labels map[string]string
}

// wantZero fails for each series that is absent or not 0.
func wantZero(t *testing.T, fams map[string]*dto.MetricFamily, all []series) {
	t.Helper()
	for _, s := range all {
		if got, ok := value(t, fams, s.name, s.labels); !ok || got != 0 {
			t.Errorf("%s%v = %v (found %v), want 0", s.name, s.labels, got, ok)
		}
	}
}

// TestConfiguredSeriesStartAtZero: before anything happens, every series
// an alert reads exists at 0 for each configured source and destination,
// and a later SetConfigured (a reload) adds the new ones.
func TestConfiguredSeriesStartAtZero(t *testing.T) {
	db, err := badger.Open(badger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := metrics.New()
	reg.SetConfigured([]metrics.Source{
		{Name: "koji", Provider: "koji", Secrets: 2},
		{Name: "gather", Provider: "gather", Secrets: 1, Canonical: true},
	}, []string{"app"})
	if err := reg.RegisterStore(db, nil); err != nil {
		t.Fatal(err)
	}
	fams := gather(t, reg)
	wantZero(t, fams, []series{
		{"porch_deliveries_total", map[string]string{"source": "koji", "event": "", "outcome": "unavailable"}},
		{"porch_deliveries_total", map[string]string{"source": "gather", "event": "", "outcome": "rejected"}},
		{"porch_deliveries_total", map[string]string{"source": "koji", "event": "other", "outcome": "quarantined"}},
		{"porch_deliveries_total", map[string]string{"source": "koji", "event": "interview.completed", "outcome": "accepted"}},
		{"porch_deliveries_total", map[string]string{"source": "_unknown", "event": "", "outcome": "unknown_source"}},
		{"porch_verifications_total", map[string]string{"source": "koji", "mode": "raw", "secret_index": "1"}},
		{"porch_verifications_total", map[string]string{"source": "gather", "mode": "canonical", "secret_index": "0"}},
		{"porch_dedup_hits_total", map[string]string{"source": "gather"}},
		{"porch_ack_duration_seconds", map[string]string{"source": "koji"}},
		{"porch_dead_letters_total", map[string]string{"destination": "app"}},
		{"porch_forward_attempts_total", map[string]string{"destination": "app", "outcome": "dead"}},
		{"porch_outbox_depth", map[string]string{"destination": "app"}},
		{"porch_outbox_oldest_pending_seconds", map[string]string{"destination": "app"}},
		{"porch_config_reloads_total", map[string]string{"outcome": "ok"}},
		{"porch_config_reloads_total", map[string]string{"outcome": "refused"}},
	})
	if _, ok := value(t, fams, "porch_verifications_total", map[string]string{"source": "koji", "mode": "canonical"}); ok {
		t.Error("koji has a canonical verification series; it never verifies that way")
	}

	reg.SetConfigured([]metrics.Source{{Name: "gather", Provider: "gather", Secrets: 1}, {Name: "koji-eu", Provider: "koji", Secrets: 1}},
		[]string{"app", "audit"})
	fams = gather(t, reg)
	wantZero(t, fams, []series{
		{"porch_deliveries_total", map[string]string{"source": "koji-eu", "event": "", "outcome": "unavailable"}},
		{"porch_dead_letters_total", map[string]string{"destination": "audit"}},
		{"porch_outbox_depth", map[string]string{"destination": "audit"}},
	})
	if got, ok := value(t, fams, "porch_provider_ack_deadline_seconds", map[string]string{"source": "koji-eu"}); !ok || got != 10 {
		t.Errorf("deadline of the added source = %v (found %v), want 10", got, ok)
	}
	if _, ok := value(t, fams, "porch_provider_ack_deadline_seconds", map[string]string{"source": "koji"}); ok {
		t.Error("the removed source still has a deadline")
	}
}

func TestBuildInfo(t *testing.T) {
	reg := metrics.New()
	reg.SetBuildInfo("1.2.3", "abc123", "go1.99")
	got, ok := value(t, gather(t, reg), "porch_build_info", map[string]string{"version": "1.2.3", "commit": "abc123", "goversion": "go1.99"})
	if !ok || got != 1 {
		t.Errorf("porch_build_info = %v (found %v), want 1", got, ok)
	}
}
