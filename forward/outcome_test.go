package forward

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

// TestOutcomes sends one event to a destination that fails in one way
// and checks the durable outcome and the attempt record.
func TestOutcomes(t *testing.T) {
	dead := newSink(t, nil)
	dead.Close() // connection refused from now on
	tests := []struct {
		name      string
		answer    func(int, hit, http.ResponseWriter)
		url       string
		outcome   string // of the first attempt
		status    int
		nextAfter time.Duration // retries: minimum delay to the next attempt
		errHas    string
		response  string
	}{
		{name: "200", answer: status(200), outcome: inbox.OutcomeDelivered, status: 200},
		{name: "204", answer: status(204), outcome: inbox.OutcomeDelivered, status: 204},
		{name: "500", answer: status(500), outcome: inbox.OutcomeRetry, status: 500, nextAfter: time.Second, errHas: "status 500"},
		{name: "503", answer: status(503), outcome: inbox.OutcomeRetry, status: 503, nextAfter: time.Second},
		{name: "408", answer: status(408), outcome: inbox.OutcomeRetry, status: 408, nextAfter: time.Second},
		{name: "429 retry-after seconds", answer: func(_ int, _ hit, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(429)
		}, outcome: inbox.OutcomeRetry, status: 429, nextAfter: 120 * time.Second},
		{name: "503 retry-after date", answer: func(_ int, _ hit, w http.ResponseWriter) {
			w.Header().Set("Retry-After", newClock().Now().Add(10*time.Minute).Format(http.TimeFormat))
			w.WriteHeader(503)
		}, outcome: inbox.OutcomeRetry, status: 503, nextAfter: 10 * time.Minute},
		{name: "404", answer: func(_ int, _ hit, w http.ResponseWriter) {
			w.WriteHeader(404)
			w.Write([]byte(`{"error":"no such route"}`))
		}, outcome: inbox.OutcomeDead, status: 404, errHas: "status 404", response: `{"error":"no such route"}`},
		{name: "400", answer: status(400), outcome: inbox.OutcomeDead, status: 400},
		{name: "401", answer: status(401), outcome: inbox.OutcomeDead, status: 401},
		{name: "timeout", answer: func(_ int, h hit, _ http.ResponseWriter) { <-h.ctx.Done() },
			outcome: inbox.OutcomeRetry, nextAfter: time.Second, errHas: "Timeout"},
		{name: "connection refused", url: dead.URL, outcome: inbox.OutcomeRetry, nextAfter: time.Second, errHas: "connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			db := openDB(t, "", c)
			url := tt.url
			if url == "" {
				url = newSink(t, tt.answer).URL
			}
			d := testDest("app", url)
			d.Timeout = 200 * time.Millisecond
			id := accept(t, db, "i-1", `{"a":1}`, "app")
			start(t, db, c, d)
			a := waitAttempts(t, db, id, 1)[0]
			if a.Outcome != tt.outcome || a.Status != tt.status || a.Number != 1 || a.Destination != "app" {
				t.Errorf("attempt = %+v", a)
			}
			if tt.errHas != "" && !strings.Contains(a.Error, tt.errHas) {
				t.Errorf("error = %q, want it to contain %q", a.Error, tt.errHas)
			}
			if a.Response != tt.response {
				t.Errorf("response = %q, want %q", a.Response, tt.response)
			}
			st := state(t, db, id, "app")
			dls, _ := db.DeadLetters(inbox.DeadLetterFilter{})
			switch tt.outcome {
			case inbox.OutcomeDelivered:
				if st.Status != inbox.DeliveryDelivered || len(dls) != 0 {
					t.Errorf("state = %+v, dead letters %v", st, dls)
				}
			case inbox.OutcomeDead:
				if st.Status != inbox.DeliveryDead || len(dls) != 1 || dls[0].EventID != id || dls[0].LastStatus != tt.status {
					t.Errorf("state = %+v, dead letters %+v", st, dls)
				}
			case inbox.OutcomeRetry:
				if st.Status != inbox.DeliveryPending || st.NextAt.Before(c.Now().Add(tt.nextAfter)) || !a.NextAt.Equal(st.NextAt) {
					t.Errorf("state = %+v (now %v), want next at >= now+%v", st, c.Now(), tt.nextAfter)
				}
				if p := inboxtest.Queued(t, db); len(p) != 1 || p[0].Attempts != 1 {
					t.Errorf("outbox = %+v", p)
				}
			}
		})
	}
}

func TestRetryThenDeliver(t *testing.T) {
	c := newClock()
	db := openDB(t, "", c)
	s := newSink(t, func(n int, _ hit, w http.ResponseWriter) {
		if n < 3 {
			w.WriteHeader(502)
			return
		}
		w.WriteHeader(200)
	})
	id := accept(t, db, "", `{"a":1}`, "app")
	start(t, db, c, testDest("app", s.URL))
	waitAttempts(t, db, id, 1)
	if st := state(t, db, id, "app"); !st.NextAt.Equal(c.Now().Add(time.Second)) {
		t.Fatalf("first retry at %v, want now+1s", st.NextAt)
	}
	c.Advance(time.Second)
	waitAttempts(t, db, id, 2)
	if st := state(t, db, id, "app"); !st.NextAt.Equal(c.Now().Add(2 * time.Second)) {
		t.Fatalf("second retry at %v, want now+2s (exponential)", st.NextAt)
	}
	c.Advance(2 * time.Second)
	as := waitAttempts(t, db, id, 3)
	want := []string{inbox.OutcomeRetry, inbox.OutcomeRetry, inbox.OutcomeDelivered}
	for i, a := range as {
		if a.Outcome != want[i] || a.Number != i+1 {
			t.Errorf("attempt %d = %+v", i, a)
		}
	}
	for i, h := range s.Hits() {
		if h.header.Get("Webhook-Id") != id || h.header.Get("X-Porch-Attempt") != string(rune('1'+i)) {
			t.Errorf("hit %d headers %v", i, h.header)
		}
	}
}

func TestMaxAttemptsDeadLetters(t *testing.T) {
	c := newClock()
	db := openDB(t, "", c)
	s := newSink(t, status(503))
	d := testDest("app", s.URL)
	d.MaxAttempts = 3
	id := accept(t, db, "", `{"a":1}`, "app")
	start(t, db, c, d)
	for n := 1; n < 3; n++ {
		waitAttempts(t, db, id, n)
		c.Advance(time.Hour)
	}
	as := waitAttempts(t, db, id, 3)
	if as[2].Outcome != inbox.OutcomeDead {
		t.Fatalf("last attempt = %+v", as[2])
	}
	dls, err := db.DeadLetters(inbox.DeadLetterFilter{Destination: "app"})
	if err != nil || len(dls) != 1 || dls[0].Attempts != 3 || !strings.Contains(dls[0].Reason, "max attempts") {
		t.Fatalf("dead letters = %+v, %v", dls, err)
	}
	if n := inboxtest.Depth(t, db); n != 0 {
		t.Errorf("outbox still holds %d entries", n)
	}
}

func TestResponseKeptUpTo1KiB(t *testing.T) {
	db := openDB(t, t.TempDir(), nil) // in-memory Badger refuses values over 1 KiB
	s := newSink(t, func(_ int, _ hit, w http.ResponseWriter) {
		w.WriteHeader(400)
		w.Write([]byte(strings.Repeat("x", 5000)))
	})
	id := accept(t, db, "", `{"a":1}`, "app")
	start(t, db, nil, testDest("app", s.URL))
	if a := waitAttempts(t, db, id, 1)[0]; len(a.Response) != inbox.MaxAttemptResponse {
		t.Errorf("kept %d bytes of response", len(a.Response))
	}
}

// TestHealthySinkGetsEachEventOnce: with a healthy destination and no
// crash, at-least-once is in practice exactly once. An attempt that ends
// while a scheduler pass is reading the outbox must not be picked again
// from that pass's older snapshot.
func TestHealthySinkGetsEachEventOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	s := newSink(t, func(_ int, h hit, w http.ResponseWriter) {
		mu.Lock()
		seen[h.header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	db := openDB(t, t.TempDir(), nil)
	const n = 600
	acceptN(t, db, n, 50)
	dest := testDest("app", s.URL)
	dest.Concurrency = 16
	// A request that outlives its timeout is rightly sent again; on a
	// loaded machine under -race 5s was reached, so no attempt times out.
	// HTTPRetries keeps its default: an attempt's budget is the timeout
	// once per try plus a second, and with none (start's -1) that is one
	// second, which slow attempts under -race outlived and were resent.
	dest.Timeout = MaxTimeout
	d, stop := startCfg(t, db, Config{Destinations: []Destination{dest}, Poll: 10 * time.Millisecond})
	waitFor(t, "every event delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	})
	// A second copy would be picked by a scheduler pass: let two more
	// passes end (the one under way may hold an old snapshot), then stop,
	// which waits for the attempts they started to finish.
	waitPasses(t, d, 2)
	stop()
	mu.Lock()
	defer mu.Unlock()
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", id, c)
		}
	}
	if st, _ := db.OutboxStats(); st["app"].Depth != 0 {
		t.Errorf("outbox depth %d after every event was delivered", st["app"].Depth)
	}
}
