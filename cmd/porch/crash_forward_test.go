package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// heldSink is a destination that, while holding, takes each forwarded
// request and keeps it open until released, so a test can kill the
// gateway with deliveries in flight. It records every request it gets.
type heldSink struct {
	mu      sync.Mutex
	holding bool
	release chan struct{}
	reqs    []sinkReq
}

type sinkReq struct {
	path, webhookID, envelopeID string
	held                        bool
}

func (s *heldSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var env struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &env)
	s.mu.Lock()
	held := s.holding
	s.reqs = append(s.reqs, sinkReq{path: r.URL.Path, webhookID: r.Header.Get("webhook-id"), envelopeID: env.ID, held: held})
	s.mu.Unlock()
	if held {
		<-s.release // the gateway is killed meanwhile; this 200 goes nowhere
	}
	w.WriteHeader(http.StatusOK)
}

func (s *heldSink) snapshot() []sinkReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkReq(nil), s.reqs...)
}

// TestCrashKill9WhileForwarding kills the real binary while deliveries to
// the destinations are in flight (the sink has them and has not
// answered). After a restart every acknowledged event reaches each of its
// destinations with a 2xx, the ones in flight are sent again, and every
// copy carries the event id as its webhook-id, so the app can drop the
// duplicates.
func TestCrashKill9WhileForwarding(t *testing.T) {
	bin := buildPorch(t)
	sink := &heldSink{holding: true, release: make(chan struct{})}
	dest := httptest.NewServer(sink)
	defer dest.Close()
	released := false
	defer func() {
		if !released {
			close(sink.release)
		}
	}()
	dir := t.TempDir()
	cfg := writeProcConfig(t, dir, testConfigPaths(filepath.Join(dir, "data"), dest.URL))
	p := startPorch(t, bin, cfg)

	// Koji events go to app and koji-only, Gather's to app only.
	want := map[string]bool{} // path + " " + event id
	for i := range 30 {
		provider, secret, event := "koji", testKojiSecret, "interview.completed"
		if i%3 == 2 {
			provider, secret, event = "gather", testGatherSecret, "candidate_interview.completed"
		}
		body, h := signed(t, provider, event, "iv-crash-"+string(rune('a'+i)), secret)
		a := deliver(t, p.listen, provider, body, h)
		if a.Status != http.StatusOK || a.Duplicate {
			t.Fatalf("deliver %d: %+v", i, a)
		}
		want["/app "+a.ID] = true
		if provider == "koji" {
			want["/koji-only "+a.ID] = true
		}
	}
	waitUntil(t, 20*time.Second, "deliveries in flight at the sink", func() bool { return len(sink.snapshot()) >= 4 })
	p.kill9()
	inFlight := sink.snapshot()
	sink.mu.Lock()
	sink.holding = false
	sink.mu.Unlock()
	close(sink.release)
	released = true
	t.Logf("%d forwarded requests in flight at kill -9", len(inFlight))

	startPorch(t, bin, cfg)
	waitUntil(t, 30*time.Second, "every event at each of its destinations after the restart", func() bool {
		got := map[string]bool{}
		for _, r := range sink.snapshot() {
			if !r.held {
				got[r.path+" "+r.envelopeID] = true
			}
		}
		for k := range want {
			if !got[k] {
				return false
			}
		}
		return true
	})

	byKey := map[string][]sinkReq{}
	for _, r := range sink.snapshot() {
		if r.webhookID != r.envelopeID {
			t.Errorf("%s: webhook-id %q is not the event id %q", r.path, r.webhookID, r.envelopeID)
		}
		if !want[r.path+" "+r.envelopeID] {
			t.Errorf("%s got event %q, which was never acknowledged for it", r.path, r.envelopeID)
		}
		byKey[r.path+" "+r.envelopeID] = append(byKey[r.path+" "+r.envelopeID], r)
	}
	for _, r := range inFlight {
		copies := byKey[r.path+" "+r.envelopeID]
		if len(copies) < 2 {
			t.Errorf("%s %s was in flight at the kill but was not sent again", r.path, r.envelopeID)
		}
		for _, c := range copies {
			if c.webhookID != r.webhookID {
				t.Errorf("%s %s: duplicates carry webhook-ids %q and %q", r.path, r.envelopeID, r.webhookID, c.webhookID)
			}
		}
	}
}
