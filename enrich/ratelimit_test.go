package enrich_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/inbox"
)

// enrichAll runs Prepare for every event from workers goroutines at once.
func enrichAll(t *testing.T, h *harness, evs []*inbox.Event, workers int) {
	t.Helper()
	work := make(chan *inbox.Event)
	var wg sync.WaitGroup
	errs := make(chan error, len(evs))
	for range workers {
		wg.Go(func() {
			for ev := range work {
				out, err := h.en.Prepare(context.Background(), ev)
				if err == nil && header(out) != "ok" {
					err = fmt.Errorf("%s: outcome %+v", ev.InterviewID, out)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for _, ev := range evs {
		work <- ev
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLimiterNeverExceedsTheProviderLimit(t *testing.T) {
	cases := []struct {
		provider, typ string
		events        int
		minElapsed    time.Duration
	}{
		{"koji", "interview.analysis_ready", 200, 3 * time.Minute},          // 60/min sliding
		{"gather", "candidate_interview.completed", 1050, 60 * time.Minute}, // 1000/h rolling + 100/min
		{"gather", "candidate_interview.completed", 350, 3 * time.Minute},   // the burst window alone
	}
	for _, c := range cases {
		for _, quiet := range []bool{false, true} {
			if c.events > 1000 && !quiet {
				continue // the hourly window is slow under -race; the quiet run is the stricter one
			}
			t.Run(fmt.Sprintf("%s-%d-quiet=%v", c.provider, c.events, quiet), func(t *testing.T) {
				h := newHarness(t, c.provider, nil)
				h.api.quiet = quiet // true: no hints, the local limiter alone must hold
				evs := make([]*inbox.Event, c.events)
				for i := range evs {
					evs[i] = h.event(c.typ, fmt.Sprintf("iv-%d", i))
				}
				t0 := h.clk.Now()
				enrichAll(t, h, evs, 12)
				req, limited := h.api.counts()
				if limited != 0 || req != c.events {
					t.Fatalf("requests=%d 429s=%d; want %d and 0", req, limited, c.events)
				}
				if el := h.clk.Now().Sub(t0); el < c.minElapsed {
					t.Fatalf("took %s of virtual time; the limit allows no less than %s", el, c.minElapsed)
				}
			})
		}
	}
}

func TestSourcesWithOneKeyShareOneLimiter(t *testing.T) {
	h := newHarness(t, "koji", func(c *enrich.Config) {
		second := c.Sources[0]
		second.Name = "src2"
		c.Sources = append(c.Sources, second)
	})
	var evs []*inbox.Event
	for i := range 90 {
		ev := h.event("interview.analysis_ready", fmt.Sprintf("iv-%d", i))
		if i%2 == 1 {
			ev.Source = "src2"
		}
		evs = append(evs, ev)
	}
	enrichAll(t, h, evs, 8)
	if _, limited := h.api.counts(); limited != 0 {
		t.Fatalf("%d 429s: the two sources did not share the key's limiter", limited)
	}
}

func TestRemainingZeroWaitsForReset(t *testing.T) {
	h := newHarness(t, "koji", nil)
	h.api.prefill(59) // another client of the same key used most of the window
	t0 := h.clk.Now()
	first, second := h.event("interview.analysis_ready", "iv-1"), h.event("interview.analysis_ready", "iv-2")
	if out := h.prepare(first); header(out) != "ok" {
		t.Fatalf("first: %+v", out)
	}
	if out := h.prepare(second); header(out) != "ok" {
		t.Fatalf("second: %+v", out)
	}
	if _, limited := h.api.counts(); limited != 0 {
		t.Fatalf("%d 429s; X-RateLimit-Remaining 0 should have made the client wait", limited)
	}
	if el := h.clk.Now().Sub(t0); el < time.Minute {
		t.Fatalf("second request after %s, before X-RateLimit-Reset", el)
	}
}

func Test429HonoursRetryAfterAndReset(t *testing.T) {
	cases := []struct {
		name, provider, typ string
		retryAfter          bool
	}{
		{"koji Retry-After", "koji", "interview.analysis_ready", true},
		{"koji Reset only", "koji", "interview.analysis_ready", false},
		{"gather Reset", "gather", "candidate_interview.completed", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.provider, nil)
			h.api.retryAfter = c.retryAfter
			h.api.prefill(100) // someone else exhausted the key
			t0 := h.clk.Now()
			ev := h.event(c.typ, "iv-1")
			if out := h.prepare(ev); header(out) != "ok" {
				t.Fatalf("outcome = %+v", out)
			}
			req, limited := h.api.counts()
			if limited != 1 || req != 2 {
				t.Fatalf("requests=%d 429s=%d; want one 429, then one success after the wait", req, limited)
			}
			if el := h.clk.Now().Sub(t0); el < time.Minute {
				t.Fatalf("retried after %s, before the window reset", el)
			}
			if m := h.en.Metrics(); m.RateLimited.Load() != 1 {
				t.Fatalf("rate-limited counter = %d", m.RateLimited.Load())
			}
		})
	}
}

func TestLongRateLimitWaitPostponesInsteadOfBlocking(t *testing.T) {
	h := newHarness(t, "koji", func(c *enrich.Config) { c.MaxBlock = 5 * time.Second })
	h.api.retryAfter = true
	h.api.prefill(60)
	t0 := h.clk.Now()
	ev := h.event("interview.analysis_ready", "iv-1")
	out := h.prepare(ev)
	if out.WaitUntil.Before(t0.Add(time.Minute)) || out.Header != nil {
		t.Fatalf("outcome = %+v, want a postponement to the reset", out)
	}
	if _, err := h.db.Enrichment(ev.ID); err == nil {
		t.Fatal("a postponement by the rate limit must not count as an attempt")
	}
	h.clk.Advance(out.WaitUntil.Sub(h.clk.Now()))
	if out := h.prepare(ev); header(out) != "ok" {
		t.Fatalf("after the wait: %+v", out)
	}
	if rec := h.record(ev); rec.Attempts != 1 {
		t.Fatalf("attempts = %d, want 1", rec.Attempts)
	}
}

// TestPersistent429IsNeverAFailureWithinMaxWait: a key the provider keeps
// throttling postpones the event (no attempt spent) until max_wait after
// it was received; then on_failure decides.
func TestPersistent429IsNeverAFailureWithinMaxWait(t *testing.T) {
	for _, mode := range []string{enrich.OnFailureForward, enrich.OnFailureHold} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, "koji", func(c *enrich.Config) {
				c.Sources[0].OnFailure, c.Sources[0].MaxWait = mode, 10*time.Minute
			})
			h.api.throttleN = 1 << 20
			ev := h.event("interview.analysis_ready", "iv-1")
			for range 2000 {
				out := h.prepare(ev)
				if out.WaitUntil.IsZero() {
					if mode == enrich.OnFailureHold || header(out) != "failed" {
						t.Fatalf("outcome = %+v", out)
					}
					if el := h.clk.Now().Sub(ev.ReceivedAt); el < 10*time.Minute-2*time.Second {
						t.Fatalf("gave up after %s, before max_wait", el)
					}
					if rec := h.record(ev); !strings.Contains(rec.LastError, "rate limited") {
						t.Fatalf("record = %+v", rec)
					}
					return
				}
				if _, err := h.db.Enrichment(ev.ID); err == nil {
					t.Fatal("a rate-limit postponement was recorded as an attempt")
				}
				h.clk.Advance(out.WaitUntil.Sub(h.clk.Now()))
				if mode == enrich.OnFailureHold && h.clk.Now().Sub(ev.ReceivedAt) > time.Hour {
					return // held past max_wait and still waiting: as configured
				}
			}
			t.Fatal("never settled")
		})
	}
}
