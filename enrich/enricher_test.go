package enrich_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/inbox"
)

func TestPrepareFetchesAndStoresTheRecord(t *testing.T) {
	for _, provider := range []string{"koji", "gather"} {
		t.Run(provider, func(t *testing.T) {
			h := newHarness(t, provider, nil)
			typ := map[string]string{"koji": "interview.analysis_ready", "gather": "candidate_interview.completed"}[provider]
			ev := h.event(typ, "iv-1")
			out := h.prepare(ev)
			if header(out) != "ok" || len(out.Interview) == 0 || !out.WaitUntil.IsZero() {
				t.Fatalf("outcome = %+v", out)
			}
			rec := h.record(ev)
			if rec.Status != inbox.EnrichOK || string(rec.Interview) != string(out.Interview) || rec.Attempts != 1 {
				t.Fatalf("record = %+v", rec)
			}
			if provider == "gather" && rec.ProviderRequestID == "" {
				t.Error("gather meta.requestId not kept")
			}
			var v map[string]any
			if err := json.Unmarshal(out.Interview, &v); err != nil {
				t.Fatal(err)
			}
			if provider == "gather" && v["candidateInterviewId"] != "iv-1" {
				t.Errorf("gather interview should be the data member, got %s", out.Interview)
			}
			// Every later attempt (other destinations, retries) gets the
			// stored record without a new request.
			again := h.prepare(ev)
			if string(again.Interview) != string(out.Interview) || h.api.fetchesOf("iv-1") != 1 {
				t.Fatalf("second prepare fetched again: %d requests", h.api.fetchesOf("iv-1"))
			}
		})
	}
}

func TestPrepareIgnoresEventsNotConfigured(t *testing.T) {
	h := newHarness(t, "koji", nil)
	for _, ev := range []*inbox.Event{h.event("interview.completed", "iv-1"), h.event("interview.analysis_ready", "")} {
		if out := h.prepare(ev); out.Interview != nil || out.Header != nil || !out.WaitUntil.IsZero() {
			t.Errorf("%s: outcome = %+v, want none", ev.Type, out)
		}
	}
	other := h.event("interview.analysis_ready", "iv-2")
	other.Source = "elsewhere"
	if out := h.prepare(other); out.Header != nil {
		t.Errorf("unknown source enriched: %+v", out)
	}
	if req, _ := h.api.counts(); req != 0 {
		t.Errorf("%d API requests, want 0", req)
	}
}

func TestSingleFlightOneRequestPerInterview(t *testing.T) {
	h := newHarness(t, "gather", nil)
	ev := h.event("candidate_interview.completed", "iv-1")
	h.api.gate, h.api.arrived = make(chan struct{}), make(chan string, 64)
	const n = 32
	var started, done sync.WaitGroup
	outs := make([]enrich.Outcome, n)
	errs := make([]error, n)
	started.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			started.Done()
			outs[i], errs[i] = h.en.Prepare(context.Background(), ev)
		}()
	}
	<-h.api.arrived // the first fetch is in flight, held at the fake
	started.Wait()
	close(h.api.gate)
	done.Wait()
	for i := range n {
		if errs[i] != nil || header(outs[i]) != "ok" || string(outs[i].Interview) != string(outs[0].Interview) {
			t.Fatalf("caller %d: %+v, %v", i, outs[i], errs[i])
		}
	}
	if got := h.api.fetchesOf("iv-1"); got != 1 {
		t.Fatalf("%d requests for one interview, want 1", got)
	}
}

func TestProcessingIsRefetchedOnSchedule(t *testing.T) {
	h := newHarness(t, "gather", nil)
	ev := h.event("candidate_interview.completed", "iv-1")
	h.api.processing["iv-1"] = 2
	t0 := h.clk.Now()

	out := h.prepare(ev)
	if !out.WaitUntil.Equal(t0.Add(2*time.Minute)) || out.Interview != nil {
		t.Fatalf("first: %+v, want wait until +2m", out)
	}
	if rec := h.record(ev); rec.Status != inbox.EnrichProcessing || len(rec.Interview) == 0 {
		t.Fatalf("record = %+v", rec)
	}
	if out := h.prepare(ev); !out.WaitUntil.Equal(t0.Add(2*time.Minute)) || h.api.fetchesOf("iv-1") != 1 {
		t.Fatalf("early prepare refetched: %+v", out)
	}
	h.clk.Advance(2 * time.Minute)
	if out := h.prepare(ev); !out.WaitUntil.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("second: %+v, want wait until +10m", out)
	}
	h.clk.Advance(8 * time.Minute)
	out = h.prepare(ev)
	if header(out) != "ok" || !strings.Contains(string(out.Interview), `"summaryStatus":"complete"`) {
		t.Fatalf("third: %+v", out)
	}
	if rec := h.record(ev); rec.Status != inbox.EnrichOK || rec.Attempts != 3 || rec.Refetches != 2 {
		t.Fatalf("record = %+v", rec)
	}
}

func TestProcessingGivesUpAtMaxWait(t *testing.T) {
	h := newHarness(t, "gather", func(c *enrich.Config) { c.Sources[0].MaxWait = 15 * time.Minute })
	ev := h.event("candidate_interview.completed", "iv-1")
	h.api.processing["iv-1"] = 100
	for range 2 {
		out := h.prepare(ev)
		if out.WaitUntil.IsZero() {
			t.Fatalf("gave up too early: %+v", out)
		}
		h.clk.Advance(out.WaitUntil.Sub(h.clk.Now()))
	}
	out := h.prepare(ev) // at +10m; +30m is beyond max_wait
	if header(out) != "incomplete" || !strings.Contains(string(out.Interview), `"processing"`) {
		t.Fatalf("outcome = %+v, want the processing record flagged incomplete", out)
	}
	if got := h.api.fetchesOf("iv-1"); got != 3 {
		t.Fatalf("%d fetches, want 3 (0, +2m, +10m)", got)
	}
	if got := h.en.Metrics().Incomplete.Load(); got != 1 {
		t.Fatalf("incomplete counter = %d", got)
	}
}

func TestOnFailureForwardSendsWithoutInterview(t *testing.T) {
	h := newHarness(t, "gather", nil)
	ev := h.event("candidate_interview.completed", "iv-1")
	h.api.failN = 1000
	out := h.prepare(ev)
	if header(out) != "failed" || out.Interview != nil || !out.WaitUntil.IsZero() {
		t.Fatalf("outcome = %+v", out)
	}
	rec := h.record(ev)
	if rec.Status != inbox.EnrichFailed || rec.Attempts != 1 || !strings.Contains(rec.LastError, "500") || rec.ProviderRequestID == "" {
		t.Fatalf("record = %+v", rec)
	}
	if req, _ := h.api.counts(); req != 3 {
		t.Fatalf("%d requests, want 3 (1 + 2 retries on 5xx)", req)
	}
	if out := h.prepare(ev); header(out) != "failed" {
		t.Fatalf("later attempt: %+v", out)
	}
	if req, _ := h.api.counts(); req != 3 {
		t.Fatalf("a settled failure was fetched again")
	}
	if got := h.en.Metrics().Failed.Load(); got != 1 {
		t.Fatalf("failed counter = %d", got)
	}
}

func TestNotFoundIsNotRetried(t *testing.T) {
	h := newHarness(t, "koji", nil)
	ev := h.event("interview.analysis_ready", "missing-1")
	if out := h.prepare(ev); header(out) != "failed" {
		t.Fatalf("outcome = %+v", out)
	}
	if req, _ := h.api.counts(); req != 1 {
		t.Fatalf("%d requests for a 404, want 1", req)
	}
	if rec := h.record(ev); !strings.Contains(rec.LastError, "404") {
		t.Fatalf("last error = %q", rec.LastError)
	}
}

func TestOnFailureHoldRetriesLater(t *testing.T) {
	h := newHarness(t, "koji", func(c *enrich.Config) { c.Sources[0].OnFailure = enrich.OnFailureHold })
	ev := h.event("interview.analysis_ready", "iv-1")
	h.api.failN = 3 // the whole first fetch (1 + 2 retries)
	t0 := h.clk.Now()
	out := h.prepare(ev)
	if out.WaitUntil.IsZero() || out.Header != nil || out.Interview != nil {
		t.Fatalf("outcome = %+v, want held", out)
	}
	rec := h.record(ev)
	if rec.Status != inbox.EnrichFailed || !rec.NextAt.Equal(out.WaitUntil) || !out.WaitUntil.After(t0) {
		t.Fatalf("record = %+v", rec)
	}
	if again := h.prepare(ev); !again.WaitUntil.Equal(out.WaitUntil) {
		t.Fatalf("held event fetched before its time: %+v", again)
	}
	h.clk.Advance(out.WaitUntil.Sub(h.clk.Now()))
	if out := h.prepare(ev); header(out) != "ok" {
		t.Fatalf("after hold: %+v", out)
	}
	if rec := h.record(ev); rec.Status != inbox.EnrichOK || rec.Attempts != 2 || rec.LastError != "" {
		t.Fatalf("record = %+v", rec)
	}
	if m := h.en.Metrics(); m.Held.Load() != 1 || m.Enriched.Load() != 1 {
		t.Fatalf("held=%d enriched=%d", m.Held.Load(), m.Enriched.Load())
	}
}
