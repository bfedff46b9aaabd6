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

// Source is where the Dispatcher finds work: due outbox entries, a
// wake-up signal when new ones are committed, and the archived events.
type Source interface {
	Due(now time.Time, limit int, skip func(dest, id string) bool, take func(*inbox.Delivery) bool) ([]inbox.Delivery, time.Time, error)
	Wake() <-chan struct{}
	// EventWithBody returns the event with its Body; the Dispatcher
	// does not modify it.
	EventWithBody(id string) (*inbox.Event, error)
}

// Settler records attempt outcomes durably.
type Settler interface {
	Ack(d inbox.Delivery, a inbox.Attempt) error
	Retry(d inbox.Delivery, next time.Time, a *inbox.Attempt) error
	DeadLetter(d inbox.Delivery, a *inbox.Attempt, reason string) error
}

// Dispatcher delivers outbox entries to their destinations. Run owns the
// scheduler loop; each attempt runs on its own goroutine, at most
// Destination.Concurrency at a time per destination.
type Dispatcher struct {
	cfg   Config
	src   Source
	set   Settler
	log   logrus.FieldLogger
	dests map[string]*dest

	kick     chan struct{} // 1-buffered: "an attempt finished, rescan"
	passes   atomic.Int64  // scheduler passes made (tests wait on it)
	stopping atomic.Bool
	wg       sync.WaitGroup

	mu       sync.Mutex           // guards the maps below and every dest's inflight and breaker
	inflight map[string]bool      // "<id>/<dest>" being attempted
	hold     map[string]time.Time // "<id>/<dest>" whose outcome could not be recorded: not before
	unknown  map[string]bool      // destinations in the outbox but not configured (logged once)
	// released holds "<id>/<dest>" whose attempt ended, with the value of
	// gen then. A pass reads the outbox in a snapshot taken after it
	// starts; an attempt released after that may have settled its entry
	// after the snapshot, which would still show it as due. So a pass
	// skips entries released since it began (released > its gen), and
	// forgets the older ones, which its snapshot already reflects.
	released map[string]uint64
	gen      uint64 // passes begun
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
		dests: map[string]*dest{}, kick: make(chan struct{}, 1),
		inflight: map[string]bool{}, hold: map[string]time.Time{}, unknown: map[string]bool{},
		released: map[string]uint64{},
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

// Run schedules attempts until ctx ends. Then it stops picking entries,
// lets attempts in flight finish (each bounded by its timeout), leaves
// everything else queued, and returns nil.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.log.WithField("destinations", len(d.dests)).Info("forwarding")
	for {
		wait := d.pass(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			d.stopping.Store(true)
			d.wg.Wait()
			d.log.Info("forwarding stopped")
			return nil
		case <-d.src.Wake():
		case <-d.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// pass starts every attempt that may start now and returns how long to
// sleep before the next pass, absent a signal.
func (d *Dispatcher) pass(ctx context.Context) time.Duration {
	defer d.passes.Add(1)
	now := d.cfg.Now()
	gen, room := d.beginPass()
	if room == 0 {
		return d.cfg.Poll // every destination is busy: a release kicks the next pass
	}
	skip, take := d.filters(now, gen)
	due, next, err := d.src.Due(now, min(d.cfg.Batch, room), skip, take)
	if err != nil {
		d.log.WithError(err).Error("reading the outbox failed")
		return d.cfg.Poll
	}
	started := 0
	for _, dl := range due {
		if ds := d.claim(dl, now); ds != nil {
			started++
			d.wg.Add(1)
			go d.work(ctx, ds, dl)
		}
	}
	if len(due) == min(d.cfg.Batch, room) && started > 0 {
		return 0 // there may be more due already
	}
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

// beginPass starts a pass: it forgets the releases the pass's snapshot
// will reflect and reports how many attempts could start now, at most,
// across destinations (open circuits count as room: they may half-open).
func (d *Dispatcher) beginPass() (gen uint64, room int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	gen = d.gen
	d.gen++
	for k, g := range d.released {
		if g <= gen {
			delete(d.released, k)
		}
	}
	for _, ds := range d.dests {
		room += max(min(ds.cfg.Concurrency-ds.inflight, ds.maxUnsettled()-ds.unsettled), 0)
	}
	if len(d.unknown) > 0 || len(d.dests) == 0 {
		room = max(room, 1) // still scan, to report unknown destinations
	}
	return gen, room
}

// filters tell the outbox scan which entries cannot start now. skip
// rejects, before the entry is read: unknown destinations, entries in
// flight or released since the pass began, destinations at their
// concurrency (counting what this scan took already) or with an open
// circuit. take counts, per destination, the entries the scan returns.
func (d *Dispatcher) filters(now time.Time, gen uint64) (skip func(dest, id string) bool, take func(*inbox.Delivery) bool) {
	taken := map[string]int{}
	take = func(dl *inbox.Delivery) bool {
		taken[dl.Destination]++
		return true
	}
	skip = func(name, id string) bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		ds := d.dests[name]
		if ds == nil {
			if !d.unknown[name] {
				d.unknown[name] = true
				d.log.WithField("destination", name).Warn("outbox holds entries for a destination not configured; leaving them queued")
			}
			return true
		}
		k := id + "/" + name
		if g, ok := d.released[k]; ok && g > gen {
			return true
		}
		if t, ok := d.hold[k]; ok {
			if now.Before(t) {
				return true
			}
			delete(d.hold, k)
		}
		busy := ds.inflight + taken[name]
		full := busy >= ds.cfg.Concurrency || ds.unsettled+taken[name] >= ds.maxUnsettled()
		return d.inflight[k] || full || !ds.breaker.allow(now, busy)
	}
	return skip, take
}

// claim marks dl in flight if it may start now.
func (d *Dispatcher) claim(dl inbox.Delivery, now time.Time) *dest {
	d.mu.Lock()
	defer d.mu.Unlock()
	ds := d.dests[dl.Destination]
	k := dl.EventID + "/" + dl.Destination
	if ds == nil || d.inflight[k] || ds.inflight >= ds.cfg.Concurrency || ds.unsettled >= ds.maxUnsettled() ||
		!ds.breaker.allow(now, ds.inflight) {
		return nil
	}
	d.inflight[k] = true
	ds.inflight++
	ds.unsettled++
	ds.breaker.start()
	return ds
}

// requestOver gives back dl's request slot and feeds the circuit; up is
// nil when no request was sent. The claim itself stays until release.
func (d *Dispatcher) requestOver(ds *dest, up *bool) {
	d.mu.Lock()
	ds.inflight--
	if up == nil {
		ds.breaker.probing = false
	} else if ds.breaker.done(d.cfg.Now(), *up) {
		d.log.WithField("destination", ds.cfg.Name).WithField("cooldown", ds.cfg.Circuit.Cooldown).
			Warn("destination failing; circuit open")
	}
	d.mu.Unlock()
	d.kickPass()
}

// release ends dl's claim once its outcome is recorded (or it was left
// queued).
func (d *Dispatcher) release(ds *dest, dl inbox.Delivery) {
	d.mu.Lock()
	k := dl.EventID + "/" + dl.Destination
	delete(d.inflight, k)
	d.released[k] = d.gen
	ds.unsettled--
	d.mu.Unlock()
	d.kickPass()
}

// kickPass asks for a scheduler pass soon.
func (d *Dispatcher) kickPass() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}
