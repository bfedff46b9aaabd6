package loadgen

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Sink stands in for a destination: it answers forwarded requests (200
// unless Status says otherwise), matches them to acknowledged deliveries
// by their webhook-id header, and measures receive-to-forward latency from
// the envelope's received_at. It is an http.Handler, safe for concurrent
// use.
type Sink struct {
	// Status, if set, picks the answer to the n-th request (from 1); it
	// lets tests play a flaky destination. Nil answers 200.
	Status func(n int64) int

	requests atomic.Int64

	mu       sync.Mutex
	seen     map[string]int       // webhook-id → requests answered 2xx
	expected map[string]time.Time // acknowledged event id → ack time
	lat      []time.Duration      // first 2xx arrival - received_at
	first    time.Time
	last     time.Time
}

// NewSink returns an empty sink.
func NewSink() *Sink {
	return &Sink{seen: map[string]int{}, expected: map[string]time.Time{}}
}

// ServeHTTP records one forwarded request.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	n := s.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	status := http.StatusOK
	if s.Status != nil {
		status = s.Status(n)
	}
	if status/100 == 2 {
		s.record(r.Header.Get("webhook-id"), body, now)
	}
	w.WriteHeader(status)
}

func (s *Sink) record(id string, body []byte, now time.Time) {
	var env struct {
		ReceivedAt time.Time `json:"received_at"`
	}
	_ = json.Unmarshal(body, &env)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[id]++
	if s.seen[id] > 1 {
		return
	}
	if s.first.IsZero() {
		s.first = now
	}
	s.last = now
	if !env.ReceivedAt.IsZero() {
		s.lat = append(s.lat, now.Sub(env.ReceivedAt))
	}
}

// Expect notes that event id was acknowledged at at, so Missing can tell
// whether it was forwarded.
func (s *Sink) Expect(id string, at time.Time) {
	s.mu.Lock()
	s.expected[id] = at
	s.mu.Unlock()
}

// Seen reports how many 2xx-answered requests carried webhook-id id.
func (s *Sink) Seen(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[id]
}

// Missing lists the expected ids not received yet.
func (s *Sink) Missing() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.expected {
		if s.seen[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// SinkReport is what a sink saw.
type SinkReport struct {
	Requests    int64   `json:"requests"`       // every request, whatever the answer
	Events      int     `json:"events"`         // distinct webhook-ids answered 2xx
	Redelivered int     `json:"redelivered"`    // 2xx requests beyond the first per id
	Expected    int     `json:"expected"`       // acknowledged new events
	Missing     int     `json:"missing"`        // acknowledged but not forwarded (yet)
	Throughput  float64 `json:"events_per_sec"` // distinct events per second since start
	Latency     Latency `json:"receive_to_forward"`
}

// Report summarises what arrived since start.
func (s *Sink) Report(start time.Time) SinkReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := SinkReport{Requests: s.requests.Load(), Events: len(s.seen), Expected: len(s.expected)}
	for _, n := range s.seen {
		r.Redelivered += n - 1
	}
	for id := range s.expected {
		if s.seen[id] == 0 {
			r.Missing++
		}
	}
	if d := s.last.Sub(start).Seconds(); d > 0 {
		r.Throughput = float64(len(s.seen)) / d
	}
	r.Latency = Summarize(append([]time.Duration(nil), s.lat...))
	return r
}

// Lag is the number of acknowledged events not yet forwarded: a proxy for
// the outbox depth.
func (s *Sink) Lag() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.expected {
		if s.seen[id] == 0 {
			n++
		}
	}
	return n
}
