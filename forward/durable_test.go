package forward

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// TestRestartMidSchedule stops the dispatcher and the store while a retry
// is scheduled; after reopening, the delivery still happens once due.
func TestRestartMidSchedule(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	s := newSink(t, func(n int, _ hit, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(200)
	})
	db := openDB(t, dir, c)
	id := accept(t, db, "i-1", `{"a":1}`, "app")
	_, stop := start(t, db, c, testDest("app", s.URL))
	waitAttempts(t, db, id, 1)
	stop()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, dir, c)
	st := state(t, db, id, "app")
	if st.Status != inbox.DeliveryPending || !st.NextAt.Equal(c.Now().Add(time.Second)) {
		t.Fatalf("after reopen: %+v", st)
	}
	d, _ := start(t, db, c, testDest("app", s.URL))
	waitPasses(t, d, 3)
	if n := len(s.Hits()); n != 1 {
		t.Fatalf("%d requests before the retry was due", n)
	}
	c.Advance(time.Second)
	as := waitAttempts(t, db, id, 2)
	if as[1].Outcome != inbox.OutcomeDelivered || as[1].Number != 2 {
		t.Errorf("second attempt = %+v", as[1])
	}
	hits := s.Hits()
	if hits[0].header.Get("Webhook-Id") != hits[1].header.Get("Webhook-Id") {
		t.Error("webhook-id changed across the restart")
	}
}

// TestOrderingPerInterview: interview A's second event waits while its
// first is retried; interview B's events flow meanwhile.
func TestOrderingPerInterview(t *testing.T) {
	c := newClock()
	db := openDB(t, "", c)
	var mu sync.Mutex
	var order []string // "<interview>:<body>" in delivery order
	failA1 := 3
	s := newSink(t, func(_ int, h hit, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		iv := h.header.Get("X-Porch-Interview-Id")
		if iv == "A" && string(h.body[len(h.body)-4:]) == `:1}}` && failA1 > 0 {
			failA1--
			w.WriteHeader(503)
			return
		}
		order = append(order, iv+string(h.body[len(h.body)-4:len(h.body)-2]))
		w.WriteHeader(200)
	})
	a1 := accept(t, db, "A", `{"n":1}`, "app")
	a2 := accept(t, db, "A", `{"n":2}`, "app")
	b1 := accept(t, db, "B", `{"n":1}`, "app")
	b2 := accept(t, db, "B", `{"n":2}`, "app")
	start(t, db, c, testDest("app", s.URL))
	for _, id := range []string{b1, b2} {
		waitFor(t, "interview B delivered", func() bool { return state(t, db, id, "app").Status == inbox.DeliveryDelivered })
	}
	// A's first attempt (at the start time) must be settled before the
	// clock moves, or it would be recorded at the old time and its retry
	// scheduled from the new one, after the next advance.
	waitFor(t, "A's first attempt", func() bool { return len(attempts(t, db, a1)) == 1 })
	if st := state(t, db, a2, "app"); st.Status != inbox.DeliveryPending || len(attempts(t, db, a2)) != 0 {
		t.Fatalf("A's second event went ahead: %+v", st)
	}
	for range 3 {
		c.Advance(time.Minute)
		waitFor(t, "A's first event settled an attempt", func() bool {
			as := attempts(t, db, a1)
			return len(as) > 0 && as[len(as)-1].At.Equal(c.Now())
		})
	}
	waitFor(t, "interview A delivered", func() bool { return state(t, db, a2, "app").Status == inbox.DeliveryDelivered })
	mu.Lock()
	defer mu.Unlock()
	ia1, ia2 := slices.Index(order, "A:1"), slices.Index(order, "A:2")
	if ia1 < 0 || ia2 < ia1 || slices.Index(order, "B:2") < slices.Index(order, "B:1") {
		t.Errorf("delivery order %v", order)
	}
	if n := len(attempts(t, db, a1)); n != 4 {
		t.Errorf("A's first event took %d attempts, want 4", n)
	}
}

// TestCircuitBacksOffDestination: after Failures failed attempts nothing
// more is sent, and no attempt is spent, until the cooldown has passed.
func TestCircuitBacksOffDestination(t *testing.T) {
	c := newClock()
	db := openDB(t, "", c)
	var mu sync.Mutex
	up := false
	s := newSink(t, func(_ int, _ hit, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(200)
	})
	d := testDest("app", s.URL)
	d.Concurrency = 1
	d.Circuit = CircuitConfig{Failures: 2, Cooldown: time.Minute}
	var ids []string
	for i := range 5 {
		ids = append(ids, accept(t, db, "", `{"n":`+string(rune('0'+i))+`}`, "app"))
	}
	disp, _ := start(t, db, c, d)
	waitFor(t, "two failures", func() bool { return len(s.Hits()) == 2 })
	waitPasses(t, disp, 3)
	c.Advance(30 * time.Second) // past every backoff, within the cooldown
	waitPasses(t, disp, 3)
	if n := len(s.Hits()); n != 2 {
		t.Fatalf("%d requests while the circuit was open", n)
	}
	spent := 0
	for _, id := range ids {
		spent += len(attempts(t, db, id))
	}
	if spent != 2 {
		t.Fatalf("%d attempts spent, want 2", spent)
	}
	mu.Lock()
	up = true
	mu.Unlock()
	c.Advance(30 * time.Second) // cooldown over: probe, then close
	for _, id := range ids {
		waitFor(t, "delivered after the circuit closed", func() bool { return state(t, db, id, "app").Status == inbox.DeliveryDelivered })
	}
}

// TestShutdownFinishesInFlight: Run returns only after the attempt in
// flight has finished and been recorded; queued entries stay queued.
func TestShutdownFinishesInFlight(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	s := newSink(t, func(_ int, _ hit, w http.ResponseWriter) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(200)
	})
	d := testDest("app", s.URL)
	d.Concurrency = 1
	first := accept(t, db, "", `{"n":1}`, "app")
	second := accept(t, db, "", `{"n":2}`, "app")
	_, stop := start(t, db, nil, d)
	<-entered
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Run returned with an attempt in flight")
	case <-time.After(50 * time.Millisecond): // proves nothing if Run is slow; fails only if it is wrong
	}
	close(release)
	<-stopped
	if st := state(t, db, first, "app"); st.Status != inbox.DeliveryDelivered {
		t.Errorf("in-flight attempt not recorded: %+v", st)
	}
	if st := state(t, db, second, "app"); st.Status != inbox.DeliveryPending || len(s.Hits()) != 1 {
		t.Errorf("queued entry: %+v, hits %d", st, len(s.Hits()))
	}
}
