package enrich

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
)

// EventCompleted is the Gather event reconciliation recreates.
const EventCompleted = "candidate_interview.completed"

// ReconcileStore is what reconciliation needs of the archive;
// every inbox.Store implements it. All methods are safe for concurrent use.
type ReconcileStore interface {
	// Accept archives, chains and queues ev, or records it as a sighting
	// of the event already holding one of its dedup keys.
	Accept(ctx context.Context, ev *inbox.Event) (inbox.Result, error)
	// LookupDedup returns the id of the event holding dedup key key of
	// source, or an error wrapping inbox.ErrNotFound.
	LookupDedup(source, key string) (string, error)
	// ReconcileMark returns source's high-water mark; zero before the
	// first run.
	ReconcileMark(source string) (time.Time, error)
	// SetReconcileMark durably stores source's high-water mark.
	SetReconcileMark(source string, t time.Time) error
}

// ReconcileConfig configures one Gather source's reconciliation.
type ReconcileConfig struct {
	Source   string        // a gather source of the Enricher's config
	Interval time.Duration // between runs; must be positive
	// Lookback is how far before the high-water mark each run looks again
	// (and how far back the first run looks). Default DefaultLookback.
	Lookback time.Duration
	// MaxAge is the dedup window: interviews completed longer ago are
	// never recreated, as their delivery's dedup key may have expired.
	// Default the store's default dedup window (inbox.DefaultDedupWindow).
	MaxAge time.Duration
	// Route names the destinations of a recreated event, as the gateway
	// does for a delivery. Required.
	Route func(source, eventType string) []string
	// Recreate builds the delivery Gather would have sent for a listed
	// completion, and its dedup keys, from the code that builds and keys
	// real deliveries, so a recreated event and a real delivery of the
	// same interview always share their key. Required.
	Recreate RecreateFunc
	// Statuses are the candidate-interview statuses listed. Default
	// ["new_response"].
	Statuses []string
	// MaxPages bounds the pages (of 100) one run reads. Default 50.
	MaxPages int
}

// DefaultLookback is how far before the high-water mark a reconciliation
// run looks when ReconcileConfig.Lookback is zero.
const DefaultLookback = 24 * time.Hour

// Completion is a candidate interview Gather's list shows completed, as
// its candidate_interview.completed delivery carries it.
type Completion struct {
	CandidateInterviewID string
	CandidateID          string
	InterviewID          string // the interview template
	Status               string
	TakenAt              string // RFC 3339
}

// RecreateFunc returns the candidate_interview.completed delivery Gather
// would have sent for c and the dedup keys that delivery claims, most
// specific first (the first is the logical key). It must be safe for
// concurrent use.
type RecreateFunc func(c Completion) (body []byte, dedupKeys []string, err error)

// Reconciler finds Gather interviews completed while their delivery was
// missed (an outage longer than Gather's ~6 minute retry window) and
// creates the missing candidate_interview.completed events.
type Reconciler struct {
	cfg    ReconcileConfig
	client *Client
	store  ReconcileStore
	now    func() time.Time
	sleep  SleepFunc
	log    logrus.FieldLogger
	m      *Metrics
}

// NewReconciler returns the reconciler of cfg.Source, which must be a
// gather source of e. It shares that source's client and rate limiter.
func (e *Enricher) NewReconciler(cfg ReconcileConfig, store ReconcileStore) (*Reconciler, error) {
	s := e.sources[cfg.Source]
	switch {
	case s == nil:
		return nil, fmt.Errorf("reconcile %s: source has no enrich config", cfg.Source)
	case s.Provider != ProviderGather:
		return nil, fmt.Errorf("reconcile %s: only gather sources reconcile", cfg.Source)
	case cfg.Interval <= 0:
		return nil, fmt.Errorf("reconcile %s: interval must be positive", cfg.Source)
	case cfg.Route == nil:
		return nil, fmt.Errorf("reconcile %s: no route", cfg.Source)
	case cfg.Recreate == nil:
		return nil, fmt.Errorf("reconcile %s: no recreate function", cfg.Source)
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = DefaultLookback
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = inbox.DefaultDedupWindow
	}
	if len(cfg.Statuses) == 0 {
		cfg.Statuses = []string{"new_response"}
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 50
	}
	return &Reconciler{
		cfg: cfg, client: s.client, store: store, now: e.cfg.Now, sleep: e.cfg.Sleep, m: e.metrics,
		log: e.log.WithFields(logrus.Fields{"component": "reconcile", "source": cfg.Source}),
	}, nil
}

// Run reconciles at once and then every Interval until ctx ends; it
// returns nil then. A failed run is logged and counted; the next run
// starts again from the last stored high-water mark.
func (r *Reconciler) Run(ctx context.Context) error {
	for {
		n, err := r.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.m.ReconcileErrors.Add(1)
			r.log.WithError(err).Warn("reconciliation run failed")
		default:
			r.log.WithField("created", n).Info("reconciliation run done")
		}
		if r.sleep(ctx, r.cfg.Interval) != nil {
			return nil
		}
	}
}

// RunOnce lists the interviews completed since the high-water mark (less
// Lookback), creates an event for each one the archive lacks, and then
// advances the mark. It returns how many events it created.
func (r *Reconciler) RunOnce(ctx context.Context) (int, error) {
	mark, err := r.store.ReconcileMark(r.cfg.Source)
	if err != nil {
		return 0, err
	}
	now := r.now()
	since := now.Add(-r.cfg.Lookback)
	if !mark.IsZero() {
		since = mark.Add(-r.cfg.Lookback)
	}
	since = latest(since, now.Add(-r.cfg.MaxAge))
	missing, hwm, err := r.findMissing(ctx, since)
	if err != nil {
		return 0, err
	}
	for i, c := range missing {
		if err := r.create(ctx, c, now); err != nil {
			return i, err
		}
	}
	if hwm.After(mark) {
		if err := r.store.SetReconcileMark(r.cfg.Source, hwm); err != nil {
			return len(missing), err
		}
	}
	r.m.ReconcileRuns.Add(1)
	return len(missing), nil
}

// findMissing lists every page and returns, oldest first, the interviews
// completed after since whose dedup key the archive does not hold, and
// the newest completion time seen.
func (r *Reconciler) findMissing(ctx context.Context, since time.Time) ([]completion, time.Time, error) {
	var missing []completion
	var hwm time.Time
	for _, status := range r.cfg.Statuses {
		for page := 1; page <= r.cfg.MaxPages; page++ {
			items, last, err := r.listPage(ctx, status, page)
			if err != nil {
				return nil, time.Time{}, err
			}
			for _, it := range items {
				c, ok := r.completion(it)
				if !ok || c.at.Before(since) {
					continue
				}
				hwm = latest(hwm, c.at)
				have, err := r.archived(c)
				if err != nil {
					return nil, time.Time{}, err
				}
				if !have {
					missing = append(missing, c)
				}
			}
			if last {
				break
			}
			if page == r.cfg.MaxPages {
				r.log.WithField("status", status).Warn("reconciliation stopped at max pages; older interviews not checked")
			}
		}
	}
	slices.SortStableFunc(missing, func(a, b completion) int { return a.at.Compare(b.at) })
	return slices.CompactFunc(missing, func(a, b completion) bool { return a.key == b.key }), hwm, nil
}

// archived reports whether the archive holds a delivery of c.
func (r *Reconciler) archived(c completion) (bool, error) {
	_, err := r.store.LookupDedup(r.cfg.Source, c.key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, inbox.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("reconcile lookup %s: %w", c.key, err)
}

// create archives the synthetic delivery of c.
func (r *Reconciler) create(ctx context.Context, c completion, now time.Time) error {
	ev := syntheticEvent(r.cfg.Source, c, now)
	ev.Destinations = r.cfg.Route(r.cfg.Source, ev.Type)
	res, err := r.store.Accept(ctx, ev)
	if err != nil {
		return fmt.Errorf("reconcile accept %s: %w", c.item.ID, err)
	}
	log := r.log.WithFields(logrus.Fields{"interview_id": c.item.ID, "event_id": res.ID, "taken_at": c.item.TakenAt})
	if res.Duplicate { // a real delivery landed meanwhile
		log.Info("reconciled interview arrived meanwhile")
		return nil
	}
	r.m.ReconcileCreated.Add(1)
	log.Warn("recreated a missed delivery")
	return nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// noBlock makes the reconciler wait for the rate limit however long.
const noBlock = time.Duration(math.MaxInt64)
