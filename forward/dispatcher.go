package forward

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// Source is where the Dispatcher finds work: it claims due outbox
// entries, gives back the claims of attempts it did not make, waits for
// new entries, and reads the archived events. Every inbox.Store
// implements it (the contract is inbox.Outbox).
type Source interface {
	// Claim returns due entries that may start, at most want[dest] per
	// destination, each the head of its interview for its destination,
	// and claims them for lease.
	Claim(now time.Time, want map[string]int, lease time.Duration) ([]inbox.Delivery, time.Time, error)
	// Release gives back a claim without recording an attempt.
	Release(d inbox.Delivery)
	Wake() <-chan struct{}
	// EventWithBody returns the event with its Body; the Dispatcher
	// does not modify it.
	EventWithBody(id string) (*inbox.Event, error)
}

var _ Source = inbox.Store(nil)

// Settler records attempt outcomes durably.
type Settler interface {
	Ack(d inbox.Delivery, a inbox.Attempt) error
	Retry(d inbox.Delivery, next time.Time, a *inbox.Attempt) error
	DeadLetter(d inbox.Delivery, a *inbox.Attempt, reason string) error
}

// Dispatcher delivers outbox entries to their destinations. Run is the
// scheduler: it alone changes the in-flight set, the counts and the
// circuits; each attempt runs on its own goroutine, at most
// Destination.Concurrency at a time per destination, and reports to the
// scheduler over a channel.
type Dispatcher struct {
	cfg   Config
	src   Source
	set   Settler
	log   logrus.FieldLogger
	dests map[string]*dest

	kick     chan struct{} // 1-buffered: "the destinations changed, rescan"
	reports  chan report   // from attempts to the scheduler
	passes   atomic.Int64  // scheduler passes made (tests wait on it)
	stopping atomic.Bool
	wg       sync.WaitGroup

	// mu guards dests, inflight and every dest's counts and breaker, which
	// only the scheduler changes (SetDestinations swaps dests); readers on
	// other goroutines take it.
	mu sync.Mutex
	// inflight holds "<id>/<dest>" of the attempts started and not over.
	// The store's claim keeps other passes from returning them; should a
	// claim lapse while its attempt still runs (a stalled store, a clock
	// moved on), this keeps the scheduler from starting it twice.
	inflight map[string]bool
}

// dest is one destination's runtime state.
type dest struct {
	cfg     Destination
	key     []byte
	client  *retryablehttp.Client
	limiter *rate.Limiter // nil: no rate limit
	breaker circuit
	// inflight counts attempts whose request is not over (at most
	// Concurrency); unsettled counts those plus the ones whose outcome is
	// still being recorded (at most maxUnsettled). An attempt gives back
	// its request slot before it waits for the store, so the wait for a
	// settle batch's fsync does not idle the destination.
	inflight  int
	unsettled int
}

// maxUnsettled bounds a destination's attempts claimed but not yet
// recorded, so a slow store cannot pile up sent attempts. The constant
// term covers the settle writer's wait for company (5 ms): with only 4x
// concurrency, a destination at concurrency 1 was held to 4 attempts per
// settle batch.
func (ds *dest) maxUnsettled() int { return 4*ds.cfg.Concurrency + 32 }

// New validates cfg and builds a Dispatcher reading src and settling
// through set. A nil log discards.
func New(cfg Config, src Source, set Settler, log logrus.FieldLogger) (*Dispatcher, error) {
	cfg.Destinations = append([]Destination(nil), cfg.Destinations...)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("forward config: %w", err)
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	d := &Dispatcher{
		cfg: cfg, src: src, set: set, log: log.WithField("component", "forward"),
		dests: map[string]*dest{}, kick: make(chan struct{}, 1), reports: make(chan report, 256),
		inflight: map[string]bool{},
	}
	for _, dc := range cfg.Destinations {
		d.dests[dc.Name] = d.newDest(dc)
	}
	return d, nil
}

// newDest builds the runtime state of a validated destination.
func (d *Dispatcher) newDest(dc Destination) *dest {
	key, _ := decodeSecret(dc.Secret) // checked by Validate
	ds := &dest{cfg: dc, key: key, breaker: circuit{cfg: dc.Circuit}}
	ds.client = newClient(&d.cfg, &ds.cfg, key, d.stopping.Load, d.log.WithField("destination", dc.Name))
	if dc.RateLimit.RPS > 0 {
		ds.limiter = rate.NewLimiter(rate.Limit(dc.RateLimit.RPS), dc.RateLimit.Burst)
	}
	return ds
}

// Run schedules attempts until ctx ends. Then it stops claiming
// entries, lets attempts in flight finish (each bounded by its timeout),
// leaves everything else queued, and returns nil.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.log.WithField("destinations", len(d.Destinations())).Info("forwarding") // under d.mu: a reload may race the start
	d.warnUnknown()
	for {
		wait := d.pass(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			d.stop()
			return nil
		case r := <-d.reports:
			d.apply(r)
			d.applyWaiting()
		case <-d.src.Wake():
		case <-d.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// stop lets the attempts in flight finish, taking their reports, and
// returns when the last is over.
func (d *Dispatcher) stop() {
	d.stopping.Store(true)
	over := make(chan struct{})
	go func() { d.wg.Wait(); close(over) }()
	for {
		select {
		case r := <-d.reports:
			d.apply(r)
		case <-over:
			d.applyWaiting()
			d.log.Info("forwarding stopped")
			return
		}
	}
}

// pass starts every attempt that may start now and returns how long to
// sleep before the next pass, absent a signal.
func (d *Dispatcher) pass(ctx context.Context) time.Duration {
	defer d.passes.Add(1)
	now := d.cfg.Now()
	want, lease := d.wants(now)
	if len(want) == 0 {
		return d.sleep(now, time.Time{}) // no room anywhere: a finished attempt kicks the next pass
	}
	due, next, err := d.src.Claim(now, want, lease)
	if err != nil {
		d.log.WithError(err).Error("reading the outbox failed")
		return d.cfg.Poll
	}
	started := 0
	for _, dl := range due {
		if ds := d.start(dl, now); ds != nil {
			started++
			d.wg.Add(1)
			go d.work(ctx, ds, dl, now)
		}
	}
	asked := 0
	for _, n := range want {
		asked += n
	}
	if len(due) == asked && started > 0 {
		return 0 // there may be more due already
	}
	return d.sleep(now, next)
}

// sleep is how long a pass at now waits: until next (zero: unknown), a
// circuit's cooldown ends, or a poll interval passes.
func (d *Dispatcher) sleep(now, next time.Time) time.Duration {
	wait := d.cfg.Poll
	if !next.IsZero() {
		wait = min(wait, next.Sub(now))
	}
	d.mu.Lock()
	for _, ds := range d.dests {
		if t := ds.breaker.reopenAt(); t.After(now) {
			wait = min(wait, t.Sub(now))
		}
	}
	d.mu.Unlock()
	return max(wait, time.Millisecond)
}

// wants says how many attempts each destination may start at now, at
// most Batch in all (an open circuit allows none, a half-open one its
// probe), and the lease to claim them for: the longest attempt budget
// among them plus settleAllowance.
func (d *Dispatcher) wants(now time.Time) (map[string]int, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	want := map[string]int{}
	var lease time.Duration
	left := d.cfg.Batch
	for name, ds := range d.dests {
		n := min(ds.cfg.Concurrency-ds.inflight, ds.maxUnsettled()-ds.unsettled, left)
		if !ds.breaker.allow(now, ds.inflight) {
			n = 0
		} else if !ds.breaker.reopenAt().IsZero() {
			n = min(n, 1) // half-open: the probe alone
		}
		if n > 0 {
			want[name] = n
			left -= n
			lease = max(lease, d.budget(ds)+settleAllowance)
		}
	}
	return want, lease
}

// start marks dl in flight; nil when it may not start (it is in flight
// already, or its destination was replaced since the pass asked).
func (d *Dispatcher) start(dl inbox.Delivery, now time.Time) *dest {
	d.mu.Lock()
	defer d.mu.Unlock()
	ds := d.dests[dl.Destination]
	k := dl.EventID + "/" + dl.Destination
	if d.inflight[k] {
		return nil // its running attempt settles or releases the claim
	}
	if ds == nil || ds.inflight >= ds.cfg.Concurrency || ds.unsettled >= ds.maxUnsettled() ||
		!ds.breaker.allow(now, ds.inflight) {
		d.src.Release(dl)
		return nil
	}
	d.inflight[k] = true
	ds.inflight++
	ds.unsettled++
	ds.breaker.start()
	return ds
}

// warnUnknown logs, once per call, each destination the outbox holds
// entries for that is not configured: they stay queued, never claimed.
// It reads the backlog only when the Source can tell it.
func (d *Dispatcher) warnUnknown() {
	src, ok := d.src.(interface {
		OutboxStats() (map[string]inbox.OutboxStat, error)
	})
	if !ok {
		return
	}
	st, err := src.OutboxStats()
	if err != nil {
		d.log.WithError(err).Warn("reading the outbox backlog failed")
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, s := range st {
		if _, ok := d.dests[name]; !ok && s.Depth > 0 {
			d.log.WithField("destination", name).WithField("depth", s.Depth).
				Warn("outbox holds entries for a destination not configured; leaving them queued (add it back, or give them up with porch deadletters abandon)")
		}
	}
}

// report is what an attempt tells the scheduler: its request is over
// (requestOver), or the attempt is (its outcome recorded or its claim
// given back).
type report struct {
	ds          *dest
	key         string // "<id>/<dest>"
	at          time.Time
	requestOver bool
	up          *bool // requestOver: how the destination answered; nil when nothing was sent
}

// requestOver reports that dl's request slot is free; up is nil when no
// request was sent. The attempt goes on until its outcome is recorded.
func (d *Dispatcher) requestOver(ds *dest, dl inbox.Delivery, up *bool) {
	d.reports <- report{ds: ds, key: dl.EventID + "/" + dl.Destination, at: d.cfg.Now(), requestOver: true, up: up}
}

// release reports that dl's attempt is over: its outcome is recorded
// (the store ended the claim) or its claim was given back.
func (d *Dispatcher) release(ds *dest, dl inbox.Delivery) {
	d.reports <- report{ds: ds, key: dl.EventID + "/" + dl.Destination}
}

// apply takes a report into the scheduler's state.
func (d *Dispatcher) apply(r report) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ds := r.ds
	if !r.requestOver {
		delete(d.inflight, r.key)
		ds.unsettled--
		return
	}
	ds.inflight--
	if r.up == nil {
		ds.breaker.probing = false
	} else if ds.breaker.done(r.at, *r.up) {
		d.log.WithField("destination", ds.cfg.Name).WithField("cooldown", ds.cfg.Circuit.Cooldown).
			Warn("destination failing; circuit open")
	}
}

// applyWaiting takes every report already sent, so that one pass follows
// a burst of them.
func (d *Dispatcher) applyWaiting() {
	for {
		select {
		case r := <-d.reports:
			d.apply(r)
		default:
			return
		}
	}
}

// kickPass asks for a scheduler pass soon.
func (d *Dispatcher) kickPass() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}
