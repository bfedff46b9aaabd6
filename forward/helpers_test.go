package forward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/sirupsen/logrus"
)

const testSecret = "whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ==" // "dev-forward-secret-key"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hit is one request a sink received.
type hit struct {
	ctx    context.Context // the request's: ends when the client gives up
	header http.Header
	body   []byte
}

// sink is a real HTTP destination whose answers a test scripts.
type sink struct {
	*httptest.Server
	mu     sync.Mutex
	hits   []hit
	answer func(n int, h hit, w http.ResponseWriter) // n counts from 1
}

func newSink(t testing.TB, answer func(n int, h hit, w http.ResponseWriter)) *sink {
	s := &sink{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h := hit{ctx: r.Context(), header: r.Header.Clone(), body: b}
		s.mu.Lock()
		s.hits = append(s.hits, h)
		n := len(s.hits)
		s.mu.Unlock()
		if s.answer == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		s.answer(n, h, w)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) Hits() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

func status(code int) func(int, hit, http.ResponseWriter) {
	return func(_ int, _ hit, w http.ResponseWriter) { w.WriteHeader(code) }
}

func openDB(t testing.TB, dir string, c *clock) *badger.DB {
	t.Helper()
	opt := badger.Options{Dir: dir}
	if c != nil {
		opt.Now = c.Now
	}
	db, err := badger.Open(opt)
	if err != nil {
		t.Fatalf("open inbox: %v", err)
	}
	t.Cleanup(func() { db.Close() }) // after the dispatcher stops: cleanups run last-in first-out
	return db
}

// accept stores an event for interview with body, queued for dests.
func accept(t testing.TB, db *badger.DB, interview, body string, dests ...string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	h := hex.EncodeToString(sum[:])
	ev := &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: interview,
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(),
		Headers:     map[string][]string{"X-Koji-Signature": {"t=1,v1=abc"}, "User-Agent": {"Koji-Webhooks/1.0"}},
		ContentType: "application/json; charset=utf-8",
		Body:        []byte(body), BodySHA256: h, BodySize: len(body),
		DedupKeys: []string{"body:" + interview + ":" + h}, Destinations: dests,
	}
	res, err := db.Accept(context.Background(), ev)
	if err != nil || res.Duplicate {
		t.Fatalf("accept = %+v, %v", res, err)
	}
	return res.ID
}

// acceptN stores n small events spread over interviews, queued for "app".
func acceptN(t testing.TB, db *badger.DB, n, interviews int) {
	t.Helper()
	for i := range n {
		accept(t, db, fmt.Sprint("iv-", i%interviews), fmt.Sprintf(`{"n":%d}`, i), "app")
	}
}

func testDest(name, url string) Destination {
	return Destination{
		Name: name, URL: url, Match: []string{"*"}, Secret: testSecret,
		Timeout: 5 * time.Second, MaxAttempts: 5, Concurrency: 4,
		Backoff: BackoffConfig{Initial: time.Second, Max: time.Minute},
		Circuit: CircuitConfig{Failures: 100, Cooldown: time.Minute},
	}
}

// start runs a Dispatcher over db until the test ends (or stop is called).
func start(t testing.TB, db *badger.DB, c *clock, dests ...Destination) (*Dispatcher, func()) {
	t.Helper()
	cfg := Config{Destinations: dests, Poll: 10 * time.Millisecond, HTTPRetries: -1,
		Backoff: func(b BackoffConfig, n int, ra time.Duration) time.Duration {
			return max(b.Initial<<(n-1), ra) // no jitter: tests compute due times
		}}
	if c != nil {
		cfg.Now = c.Now
	}
	return startCfg(t, db, cfg)
}

func startCfg(t testing.TB, db *badger.DB, cfg Config) (*Dispatcher, func()) {
	t.Helper()
	return startWith(t, cfg, db, db, nil)
}

// startWith runs a Dispatcher on src and set until the test ends or stop
// is called; stop waits for Run to return.
func startWith(t testing.TB, cfg Config, src Source, set Settler, log logrus.FieldLogger) (*Dispatcher, func()) {
	t.Helper()
	d, err := New(cfg, src, set, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return d, stop
}

// waitFor polls cond until it holds or 60 s pass: the package's one wait
// on the dispatcher's work. The bound only stops a hang; 10 s was reached
// by 600 deliveries under the race detector on a loaded machine.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// state returns the delivery state of id to dest.
func state(t testing.TB, db *badger.DB, id, dest string) inbox.DeliveryState {
	t.Helper()
	sts, err := db.Deliveries(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.Destination == dest {
			return s
		}
	}
	return inbox.DeliveryState{}
}

func attempts(t testing.TB, db *badger.DB, id string) []inbox.Attempt {
	t.Helper()
	as, err := db.Attempts(id)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// settled waits until id's delivery to dest is no longer pending with
// fewer than n attempts recorded.
func waitAttempts(t testing.TB, db *badger.DB, id string, n int) []inbox.Attempt {
	t.Helper()
	var as []inbox.Attempt
	waitFor(t, "attempt records", func() bool { as = attempts(t, db, id); return len(as) >= n })
	return as
}

// waitPasses waits until the dispatcher has made n more scheduler passes.
func waitPasses(t testing.TB, d *Dispatcher, n int64) {
	t.Helper()
	target := d.passes.Load() + n
	waitFor(t, "scheduler passes", func() bool { return d.passes.Load() >= target })
}
