package forward

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

// failFirstAck fails the first Ack without recording it, as a store
// that cannot write would.
type failFirstAck struct {
	*badger.DB
	failed atomic.Bool
}

func (s *failFirstAck) Ack(d inbox.Delivery, a inbox.Attempt) error {
	if s.failed.CompareAndSwap(false, true) {
		return errors.New("write outcome: no space left on device")
	}
	return s.DB.Ack(d, a)
}

// TestFailedSettleHoldsTheClaimUntilItsLease: an outcome that could not
// be recorded leaves its entry claimed, so it is not sent again until the
// claim's lease has passed; then it is.
func TestFailedSettleHoldsTheClaimUntilItsLease(t *testing.T) {
	c := newClock()
	s := newSink(t, nil)
	db := openDB(t, t.TempDir(), c)
	id := accept(t, db, "iv-1", `{"a":1}`, "app")
	set := &failFirstAck{DB: db}
	cfg := Config{Destinations: []Destination{testDest("app", s.URL)}, Poll: 5 * time.Millisecond, HTTPRetries: -1, Now: c.Now}
	d, _ := startWith(t, cfg, db, set, nil)

	waitFor(t, "the first outcome to fail", set.failed.Load)
	waitPasses(t, d, 5)
	if n := len(s.Hits()); n != 1 {
		t.Fatalf("sink got %d requests within the lease, want 1", n)
	}
	c.Advance(d.budget(d.dests["app"]) + settleAllowance + time.Second)
	waitFor(t, "delivered after the lease", func() bool { return state(t, db, id, "app").Status == inbox.DeliveryDelivered })
	if n := len(s.Hits()); n != 2 {
		t.Errorf("sink got %d requests, want 2 (one resend after the lease)", n)
	}
}

// TestStopReleasesAttemptsNotMade: an attempt that shutdown stops
// before its request gives its claim back, so the entry is claimable at
// once rather than after its lease.
func TestStopReleasesAttemptsNotMade(t *testing.T) {
	c := newClock()
	s := newSink(t, nil)
	db := openDB(t, t.TempDir(), c)
	id := accept(t, db, "iv-1", `{"a":1}`, "app")
	entered := make(chan struct{})
	var d *Dispatcher
	cfg := Config{Destinations: []Destination{testDest("app", s.URL)}, Poll: 5 * time.Millisecond, HTTPRetries: -1, Now: c.Now,
		Prepare: func(ctx context.Context, _ *inbox.Event) (PrepareResult, error) {
			close(entered)
			<-ctx.Done()
			waitFor(t, "the dispatcher to stop", d.stopping.Load)
			return PrepareResult{}, nil
		}}
	d, err := New(cfg, db, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	<-entered
	cancel()
	<-done
	if n := len(s.Hits()); n != 0 {
		t.Fatalf("sink got %d requests, want none", n)
	}
	due, _, err := db.Claim(c.Now(), map[string]int{"app": 1}, time.Minute)
	if err != nil || len(due) != 1 || due[0].EventID != id {
		t.Fatalf("claim after stop = %+v, %v; want %s, released", due, err, id)
	}
}

// TestUnknownDestinationLeftQueued: entries for a destination not
// configured are never claimed, and reported once at start.
func TestUnknownDestinationLeftQueued(t *testing.T) {
	s := newSink(t, nil)
	db := openDB(t, t.TempDir(), nil)
	gone := accept(t, db, "iv-1", `{"a":1}`, "gone")
	log, hook := logtest.NewNullLogger()
	d, stop := startWith(t, Config{Destinations: []Destination{testDest("app", s.URL)}, Poll: 5 * time.Millisecond, HTTPRetries: -1}, db, db, log)
	delivered := accept(t, db, "iv-2", `{"a":2}`, "app")
	waitFor(t, "app's event delivered", func() bool { return state(t, db, delivered, "app").Status == inbox.DeliveryDelivered })
	waitPasses(t, d, 3)
	stop()
	if st := state(t, db, gone, "gone"); st.Status != inbox.DeliveryPending || len(attempts(t, db, gone)) != 0 {
		t.Errorf("entry for an unknown destination: %+v, %d attempts", st, len(attempts(t, db, gone)))
	}
	warned := 0
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel && e.Data["destination"] == "gone" {
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("warned %d times about the unknown destination, want 1", warned)
	}
	if n := len(s.Hits()); n != 1 {
		t.Errorf("sink got %d requests, want 1", n)
	}
}

// TestSlowPrepareDoesNotOutliveTheClaim: an attempt whose preparation
// ran past what its claim's lease allows is postponed unsent, since
// another node may claim the delivery before its request would end.
func TestSlowPrepareDoesNotOutliveTheClaim(t *testing.T) {
	c := newClock()
	s := newSink(t, nil)
	db := openDB(t, t.TempDir(), c)
	id := accept(t, db, "iv-1", `{"a":1}`, "app")
	var calls atomic.Int32
	cfg := Config{Destinations: []Destination{testDest("app", s.URL)}, Poll: 5 * time.Millisecond, HTTPRetries: -1, Now: c.Now,
		Prepare: func(ctx context.Context, _ *inbox.Event) (PrepareResult, error) {
			if calls.Add(1) == 1 {
				c.Advance(settleAllowance)
			}
			return PrepareResult{}, nil
		}}
	startCfg(t, db, cfg)
	waitFor(t, "the attempt postponed or sent", func() bool {
		return len(s.Hits()) > 0 || state(t, db, id, "app").NextAt.After(c.Now())
	})
	if n := len(s.Hits()); n != 0 {
		t.Fatalf("sink got %d requests, want none", n)
	}
	if n := len(attempts(t, db, id)); n != 0 {
		t.Fatalf("%d attempts recorded, want none", n)
	}
}

// stallSource is a Source whose Claim calls after the first block until
// resume is closed, announcing on stalled that one does, and then claim
// nothing: the scheduler is held in a pass, and has not seen its
// context end.
type stallSource struct {
	*badger.DB
	calls   atomic.Int32
	stalled chan struct{}
	resume  chan struct{}
	gaveUp  chan struct{} // closed by the first Release or Retry
	once    sync.Once
}

func (s *stallSource) Claim(now time.Time, want map[string]int, lease time.Duration) ([]inbox.Delivery, time.Time, error) {
	if s.calls.Add(1) >= 2 {
		if s.calls.Load() == 2 {
			close(s.stalled)
		}
		<-s.resume
		return nil, time.Time{}, nil
	}
	return s.DB.Claim(now, want, lease)
}

func (s *stallSource) Release(d inbox.Delivery) {
	s.DB.Release(d)
	s.once.Do(func() { close(s.gaveUp) })
}

func (s *stallSource) Retry(d inbox.Delivery, next time.Time, a *inbox.Attempt) error {
	err := s.DB.Retry(d, next, a)
	s.once.Do(func() { close(s.gaveUp) })
	return err
}

// TestShutdownFailedPrepareReleases: a preparation that fails because
// shutdown ended its context gives the claim back at once, rather than
// postponing the delivery as a failure, even before the scheduler has
// seen the shutdown.
func TestShutdownFailedPrepareReleases(t *testing.T) {
	c := newClock()
	s := newSink(t, nil)
	db := openDB(t, t.TempDir(), c)
	id := accept(t, db, "iv-1", `{"a":1}`, "app")
	src := &stallSource{DB: db, stalled: make(chan struct{}), resume: make(chan struct{}), gaveUp: make(chan struct{})}
	entered := make(chan struct{})
	cfg := Config{Destinations: []Destination{testDest("app", s.URL)}, Poll: 5 * time.Millisecond, HTTPRetries: -1, Now: c.Now,
		Prepare: func(ctx context.Context, _ *inbox.Event) (PrepareResult, error) {
			close(entered)
			<-ctx.Done()
			return PrepareResult{}, ctx.Err()
		}}
	d, err := New(cfg, src, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	<-entered
	<-src.stalled
	cancel()
	<-src.gaveUp
	close(src.resume)
	<-done
	due, _, err := db.Claim(c.Now(), map[string]int{"app": 1}, time.Minute)
	if err != nil || len(due) != 1 || due[0].EventID != id {
		t.Fatalf("claim after stop = %+v, %v; want %s, released", due, err, id)
	}
}
