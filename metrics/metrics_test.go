package metrics_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/metrics"
	"github.com/porchgw/porch/sender"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const secret = "metrics-secret"

// stack is a real store, ingest listener and admin listener wired to one
// metrics registry the way cmd/porch wires them.
type stack struct {
	db     *badger.DB
	ingest string
	admin  string
	reg    *metrics.Registry
	srv    *gateway.Server
}

func startStack(t *testing.T) *stack {
	t.Helper()
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	koji, _ := gateway.Lookup("koji")
	reg := metrics.New(koji.Deadline)
	reg.SetAckDeadline("koji", "koji", koji.Deadline)
	if err := reg.Register(metrics.NewStoreCollector(db, nil)); err != nil {
		t.Fatal(err)
	}
	srv, err := gateway.New(gateway.Config{
		Listen: "127.0.0.1:0", Observe: reg.ObserveDelivery,
		Sources: []gateway.Source{{Name: "koji", Provider: "koji", ProviderConfig: gateway.ProviderConfig{Secrets: []string{"old", secret}}}},
		Route:   func(string, string) []string { return []string{"app"} },
	}, db, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	adm, err := admin.New(admin.Config{Listen: "127.0.0.1:0", AdminTokens: []string{"a"}, Metrics: reg.Handler()}, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	if err := adm.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- srv.Serve(ctx) }()
	go func() { done <- adm.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		db.Close()
	})
	return &stack{db: db, ingest: "http://" + srv.Addr(), admin: "http://" + adm.Addr(), reg: reg, srv: srv}
}

func (s *stack) deliver(t *testing.T, interview, key string) int {
	t.Helper()
	def, _ := gateway.Lookup("koji")
	now := time.Now()
	body := sender.Sample(def.Name, "interview.completed", interview, now)
	req, _ := http.NewRequest(http.MethodPost, s.ingest+"/in/koji", bytes.NewReader(body))
	for k, v := range sender.Sign(def.Name, body, key, now) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// scrape fetches /metrics over HTTP and parses the text format.
func (s *stack) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(s.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// value finds the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsAfterRealDeliveries(t *testing.T) {
	s := startStack(t)
	for _, d := range []struct {
		interview, key string
		want           int
	}{
		{"i-1", secret, 200}, {"i-1", secret, 200}, {"i-2", "old", 200}, {"i-3", "wrong", 401},
	} {
		if got := s.deliver(t, d.interview, d.key); got != d.want {
			t.Fatalf("deliver %s with %s: %d, want %d", d.interview, d.key, got, d.want)
		}
	}
	fams := s.scrape(t)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"porch_deliveries_total", map[string]string{"source": "koji", "event": "interview.completed", "outcome": "accepted"}, 2},
		{"porch_deliveries_total", map[string]string{"source": "koji", "outcome": "duplicate"}, 1},
		{"porch_deliveries_total", map[string]string{"source": "koji", "event": "", "outcome": "rejected"}, 1},
		{"porch_dedup_hits_total", map[string]string{"source": "koji"}, 1},
		{"porch_verifications_total", map[string]string{"source": "koji", "mode": "raw", "secret_index": "1"}, 2},
		{"porch_verifications_total", map[string]string{"source": "koji", "mode": "raw", "secret_index": "0"}, 1},
		{"porch_ack_duration_seconds", map[string]string{"source": "koji"}, 4},
		{"porch_provider_ack_deadline_seconds", map[string]string{"source": "koji", "provider": "koji"}, 10},
		{"porch_outbox_depth", map[string]string{"destination": "app"}, 2},
		{"porch_store_ready", nil, 1},
	}
	for _, c := range checks {
		got, ok := value(t, fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if age, ok := value(t, fams, "porch_outbox_oldest_pending_seconds", map[string]string{"destination": "app"}); !ok || age < 0 {
		t.Errorf("oldest pending age = %v (found %v)", age, ok)
	}
	if size, ok := value(t, fams, "porch_store_size_bytes", nil); !ok || size <= 0 {
		t.Errorf("store size = %v (found %v)", size, ok)
	}
	if free, ok := value(t, fams, "porch_store_free_bytes", nil); !ok || free <= 0 {
		t.Errorf("store free bytes = %v (found %v)", free, ok)
	}
	// The deadline is a bucket boundary, so "answered in time" is exact.
	if !hasBucket(fams["porch_ack_duration_seconds"], 10) {
		t.Error("ack histogram has no bucket at the koji deadline (10s)")
	}
}

func hasBucket(fam *dto.MetricFamily, le float64) bool {
	if fam == nil || len(fam.GetMetric()) == 0 {
		return false
	}
	for _, b := range fam.GetMetric()[0].GetHistogram().GetBucket() {
		if b.GetUpperBound() == le {
			return true
		}
	}
	return false
}

func TestForwardHooks(t *testing.T) {
	s := startStack(t)
	s.reg.ObserveForward("app", "delivered", 30*time.Millisecond)
	s.reg.ObserveForward("app", "retry", time.Second)
	s.reg.ObserveDeadLetter("app")
	s.reg.ObserveReload(false)
	fams := s.scrape(t)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"porch_forward_attempts_total", map[string]string{"destination": "app", "outcome": "delivered"}, 1},
		{"porch_forward_duration_seconds", map[string]string{"destination": "app"}, 2},
		{"porch_dead_letters_total", map[string]string{"destination": "app"}, 1},
		{"porch_config_reloads_total", map[string]string{"outcome": "refused"}, 1},
	} {
		if got, ok := value(t, fams, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

// TestKeptCounters: the counters enrich and the ingest listener keep
// themselves are read at each scrape under their names and help text,
// at 0 while there is no enricher.
func TestKeptCounters(t *testing.T) {
	s := startStack(t)
	var em atomic.Pointer[enrich.Metrics] // nil: no enricher yet
	if err := s.reg.RegisterEnrich(em.Load); err != nil {
		t.Fatal(err)
	}
	if err := s.reg.RegisterIngest(s.srv.Protection); err != nil {
		t.Fatal(err)
	}
	const zero = `
# HELP porch_enrich_requests_total HTTP requests sent to provider APIs.
# TYPE porch_enrich_requests_total counter
porch_enrich_requests_total 0
# HELP porch_ingest_connections_refused_total Connections closed on accept because their client address held max_conns_per_client.
# TYPE porch_ingest_connections_refused_total counter
porch_ingest_connections_refused_total 0
# HELP porch_reconcile_skipped_total Listed interviews skipped for lack of a completion time.
# TYPE porch_reconcile_skipped_total counter
porch_reconcile_skipped_total 0
`
	names := []string{"porch_enrich_requests_total", "porch_ingest_connections_refused_total", "porch_reconcile_skipped_total"}
	if err := testutil.GatherAndCompare(s.reg.Gatherer(), strings.NewReader(zero), names...); err != nil {
		t.Error(err)
	}
	m := &enrich.Metrics{}
	m.Requests.Add(7)
	em.Store(m)
	if got, ok := value(t, s.scrape(t), "porch_enrich_requests_total", nil); !ok || got != 7 {
		t.Errorf("porch_enrich_requests_total = %v (found %v), want 7", got, ok)
	}
}

func TestTrailCollectorCountsDropsByClass(t *testing.T) {
	s := startStack(t)
	if err := s.reg.Register(metrics.NewTrailCollector(s.db.TrailDropped)); err != nil {
		t.Fatal(err)
	}
	fams := s.scrape(t)
	for _, class := range []string{inbox.TrailSearch, inbox.TrailSensitive} {
		if got, ok := value(t, fams, "porch_access_trail_dropped_total", map[string]string{"class": class}); !ok || got != 0 {
			t.Errorf("class %s = %v (found %v), want 0", class, got, ok)
		}
	}
}
