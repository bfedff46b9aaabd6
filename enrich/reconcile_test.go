package enrich_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
	"github.com/porchgw/porch/sender"
)

const gatherSecret = "whsec-gather-test"

// startGateway runs the real ingest listener on the harness's store, with
// one gather source "src" routed to destination "app". Only this test
// imports gateway (package enrich does not): real signed deliveries prove
// that the reconciler keys events as the gateway does.
func startGateway(t *testing.T, h *harness) string {
	t.Helper()
	gw, err := gateway.New(gateway.Config{
		Listen:  "127.0.0.1:0",
		Sources: []gateway.Source{{Name: "src", Provider: "gather", ProviderConfig: gateway.ProviderConfig{Secrets: []string{gatherSecret}}}},
		Route:   route,
	}, h.db, h.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + gw.Addr() + "/in/src"
}

func route(source, event string) []string { return []string{"app"} }

// recreate builds and keys a recreated delivery as cmd/porch hands it to
// the reconciler: sender builds the body, the gateway keys it.
func recreate(c enrich.Completion) ([]byte, []string, error) {
	body := sender.GatherCompleted(sender.CandidateInterview(c))
	f, err := gateway.Inspect("gather", body)
	return body, f.DedupKeys, err
}

// completedKey is the logical dedup key the gateway gives the completed
// delivery of it.
func completedKey(t *testing.T, it map[string]any) string {
	t.Helper()
	f, err := gateway.Inspect("gather", deliveryBody(it))
	if err != nil {
		t.Fatal(err)
	}
	return f.DedupKeys[0]
}

// deliveryBody is the candidate_interview.completed delivery of it.
func deliveryBody(it map[string]any) []byte {
	body, _ := json.Marshal(map[string]any{
		"event": "candidate_interview.completed", "timestamp": it["takenAt"],
		"data": map[string]any{"candidateInterviewId": it["id"], "candidateId": it["candidateId"],
			"interviewId": it["interviewId"], "status": "new_response", "takenAt": it["takenAt"]},
	})
	return body
}

// item is one candidate interview as Gather's list returns it.
func item(id, status, takenAt string) map[string]any {
	return map[string]any{
		"id": id, "candidateId": "cand-" + id, "interviewId": "tmpl-1", "status": status,
		"inviteToken": "tok", "externalId": nil, "createdAt": "2026-11-01T00:00:00Z", "updatedAt": takenAt, "takenAt": takenAt,
	}
}

// deliver posts, signed as Gather signs, the completed delivery of it to
// the gateway and returns the gateway's answer.
func deliver(t *testing.T, url string, it map[string]any) (id string, duplicate bool) {
	t.Helper()
	body := deliveryBody(it)
	def, _ := gateway.Lookup("gather")
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range sender.Sign(def.Name, body, gatherSecret, time.Now()) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 {
		t.Fatalf("delivery: %d %v", resp.StatusCode, err)
	}
	return res.ID, res.Duplicate
}

func TestReconcileFillsExactlyTheMissingEvents(t *testing.T) {
	h := newHarness(t, "gather", nil)
	url := startGateway(t, h)
	t0 := h.clk.Now()
	var completed []map[string]any
	for i := range 230 { // three pages of 100
		completed = append(completed, item(fmt.Sprintf("ci-%03d", i), "new_response", t0.Add(-time.Duration(i)*time.Minute).Format(time.RFC3339)))
	}
	h.api.list = append(h.api.list, completed...)
	h.api.list = append(h.api.list,
		item("old-1", "new_response", t0.Add(-30*time.Hour).Format(time.RFC3339)), // beyond lookback
		item("rev-1", "has_reviewed", t0.Format(time.RFC3339)),                    // not listed
		item("nodate-1", "new_response", ""),                                      // cannot be keyed
	)
	for _, it := range completed[:10] { // these arrived for real before the outage
		deliver(t, url, it)
	}

	r, err := h.en.NewReconciler(enrich.ReconcileConfig{Source: "src", Interval: 5 * time.Minute, Route: route, Recreate: recreate}, h.db)
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.RunOnce(context.Background())
	if err != nil || n != 220 {
		t.Fatalf("RunOnce = %d, %v; want 220 created", n, err)
	}
	if n := inboxtest.Depth(t, h.db); n != 230 {
		t.Fatalf("%d events queued, want 230 (10 real + 220 reconciled)", n)
	}
	for i, it := range completed {
		id, err := h.db.LookupDedup("src", completedKey(t, it))
		if err != nil {
			t.Fatalf("%s not in the archive: %v", it["id"], err)
		}
		ev, _ := h.db.Event(id)
		wantOrigin := inbox.OriginReconcile
		if i < 10 {
			wantOrigin = inbox.OriginProvider
		}
		if ev.Origin != wantOrigin || (wantOrigin == inbox.OriginReconcile && ev.Verification.Mode != "none") {
			t.Fatalf("%s: origin %s mode %s", it["id"], ev.Origin, ev.Verification.Mode)
		}
	}
	for _, id := range []string{"old-1", "rev-1", "nodate-1"} {
		if _, err := h.db.LookupDedup("src", completedKey(t, item(id, "new_response", t0.Format(time.RFC3339)))); !errors.Is(err, inbox.ErrNotFound) {
			t.Errorf("%s should not have been created", id)
		}
	}
	if got := h.en.Metrics().ReconcileSkipped.Load(); got != 1 {
		t.Errorf("skipped = %d, want 1 (nodate-1)", got)
	}
	if mark, _ := h.db.ReconcileMark("src"); !mark.Equal(t0) {
		t.Errorf("high-water mark = %s, want %s", mark, t0)
	}

	// A real delivery arriving after reconciliation is a duplicate of the
	// reconciled event ...
	late := completed[50]
	want, _ := h.db.LookupDedup("src", completedKey(t, late))
	if id, dup := deliver(t, url, late); !dup || id != want {
		t.Fatalf("late real delivery: id %s duplicate %v; want duplicate of %s", id, dup, want)
	}
	// ... and a second run creates nothing.
	if n, err := r.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("second run = %d, %v; want 0", n, err)
	}
	if n := inboxtest.Depth(t, h.db); n != 230 {
		t.Fatalf("%d events queued after the second run, want 230", n)
	}
}

func TestReconciledEventIsEnriched(t *testing.T) {
	h := newHarness(t, "gather", nil)
	h.api.list = []map[string]any{item("ci-1", "new_response", h.clk.Now().Format(time.RFC3339))}
	r, err := h.en.NewReconciler(enrich.ReconcileConfig{Source: "src", Interval: time.Minute, Route: route, Recreate: recreate}, h.db)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	pending := inboxtest.Queued(t, h.db)
	ev, err := h.db.Event(pending[0].EventID)
	if err != nil {
		t.Fatal(err)
	}
	if out := h.prepare(ev); header(out) != "ok" {
		t.Fatalf("reconciled event not enriched: %+v", out)
	}
}

func TestReconcileRunStopsWithContext(t *testing.T) {
	h := newHarness(t, "gather", nil)
	r, err := h.en.NewReconciler(enrich.ReconcileConfig{Source: "src", Interval: time.Minute, Route: route, Recreate: recreate}, h.db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.api.failN = 1 << 20 // every run fails; Run keeps going and counts
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	waitFor(t, "three failed reconciliation runs", func() bool { return h.en.Metrics().ReconcileErrors.Load() >= 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestNewReconcilerRejectsBadConfig(t *testing.T) {
	h := newHarness(t, "koji", nil)
	for name, cfg := range map[string]enrich.ReconcileConfig{
		"koji source":    {Source: "src", Interval: time.Minute, Route: route, Recreate: recreate},
		"unknown source": {Source: "nope", Interval: time.Minute, Route: route, Recreate: recreate},
	} {
		if _, err := h.en.NewReconciler(cfg, h.db); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	g := newHarness(t, "gather", nil)
	if _, err := g.en.NewReconciler(enrich.ReconcileConfig{Source: "src", Interval: time.Minute, Route: route}, g.db); err == nil {
		t.Error("no dedup key function: no error")
	}
}
