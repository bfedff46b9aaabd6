package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// TestServeBuildsEnrichmentAndReconciles checks the YAML wiring: an enrich
// block yields an Enricher, reconcile.interval a reconciler that runs at
// start-up under serve and stops with it.
func TestServeBuildsEnrichmentAndReconciles(t *testing.T) {
	var lists atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/qsi/gather/candidate-interviews" || r.Header.Get("x-api-key") != "qapi_test" {
			http.Error(w, `{"error":{"code":"NOT_FOUND"}}`, http.StatusNotFound)
			return
		}
		lists.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":[],"meta":{"requestId":"r","pagination":{"page":1,"limit":100,"total":0,"totalPages":0}}}`))
	}))
	defer api.Close()
	yaml := strings.Replace(testConfig(t.TempDir(), "http://127.0.0.1:9"), `    secrets: ["`+testGatherSecret+`"]`,
		`    secrets: ["`+testGatherSecret+`"]
    enrich:
      base_url: "`+api.URL+`"
      api_key: "qapi_test"
    reconcile:
      interval: 1m`, 1)
	m, stop := startMain(t, yaml)
	if m.Enricher == nil || len(m.Reconcilers) != 1 {
		t.Fatalf("enricher %v, %d reconcilers; want one of each", m.Enricher, len(m.Reconcilers))
	}
	waitUntil(t, 30*time.Second, "the reconciler's start-up run", func() bool { return m.Enricher.Metrics().ReconcileRuns.Load() > 0 })
	if lists.Load() == 0 || m.Enricher.Metrics().ReconcileRuns.Load() != 1 {
		t.Fatalf("reconciler did not run at start-up: %d list requests", lists.Load())
	}
	if prepareFunc(nil) != nil {
		t.Error("no enricher must mean no Prepare seam")
	}
	prep := prepareFunc(m.Enricher)
	res, err := prep(context.Background(), &inbox.Event{ID: "x", Source: "gather", Type: "interview.created", Status: inbox.StatusAccepted, InterviewID: "i"})
	if err != nil || res.Interview != nil || res.Header != nil || !res.WaitUntil.IsZero() {
		t.Errorf("Prepare for an event not configured = %+v, %v; want nothing", res, err)
	}
	stop()
}
