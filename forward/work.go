package forward

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
)

// work makes one attempt of dl, claimed at claimed, to ds and settles it.
func (d *Dispatcher) work(ctx context.Context, ds *dest, dl inbox.Delivery, claimed time.Time) {
	defer d.wg.Done()
	// The request slot goes back as soon as the request is over, before
	// its outcome is written; the claim on dl stays until the outcome is
	// recorded, so no pass can start it again.
	slot := true
	defer func() {
		if slot {
			d.requestOver(ds, dl, nil) // no request was sent
		}
		d.release(ds, dl)
	}()
	log := d.log.WithFields(logrus.Fields{"event_id": dl.EventID, "destination": dl.Destination})
	ev, out, ok := d.prepare(ctx, ds, dl, log)
	if !ok {
		return // settled, or given back
	}
	if d.stopping.Load() || ctx.Err() != nil {
		d.src.Release(dl)
		return
	}
	if d.cfg.Now().After(claimed.Add(prepareAllowance)) {
		log.Warn("preparing the attempt took longer than its claim allows; attempt postponed")
		d.defer_(ctx, dl, d.cfg.Now().Add(d.cfg.Backoff(ds.cfg.Backoff, dl.Failures+1, 0)), log)
		return
	}
	// The attempt outlives ctx: on shutdown it finishes within its budget.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.budget(ds))
	defer cancel()
	if ds.limiter != nil {
		if err := ds.limiter.Wait(actx); err != nil || d.stopping.Load() {
			d.src.Release(dl)
			return
		}
	}
	at := d.cfg.Now()
	r := send(actx, ds.client, ds.cfg.URL, ds.key, ev.ID, out, d.cfg.Now)
	if errors.Is(r.err, errCannotBuild) {
		d.unbuildable(dl, r.err, log) // nothing was sent: the slot goes back uncounted
		return
	}
	delivered, permanent := d.classify(r)
	up := delivered || permanent // it answered: the circuit sees it up
	slot = false
	d.requestOver(ds, dl, &up)
	d.settle(ds, dl, at, r, delivered, permanent, log)
}

// budget bounds one attempt to ds, from its rate limit wait to its last
// in-process retry.
func (d *Dispatcher) budget(ds *dest) time.Duration {
	return time.Duration(d.cfg.HTTPRetries+1)*(ds.cfg.Timeout+d.cfg.HTTPRetryWaitMax) + time.Second
}

// settleAllowance is what a claim's lease allows beyond the attempt's
// budget: loading and preparing the event before it, and recording the
// outcome after. It is also how much later than need be a surviving node
// retakes a dead node's claims.
const settleAllowance = 10 * time.Second

// prepareAllowance is the part of settleAllowance for loading and
// preparing the event. Prepare runs under this deadline, and an attempt
// whose preparation ran past it (a slow archive read) is postponed
// unsent, so every request starts early enough for the lease to cover
// its budget and its outcome's recording, and no other node can claim
// the delivery while it is sent.
const prepareAllowance = settleAllowance / 2

// classify says whether r delivered its event or failed for good.
func (d *Dispatcher) classify(r response) (delivered, permanent bool) {
	delivered = r.err == nil && r.status >= 200 && r.status < 300
	return delivered, !delivered && !d.cfg.Retryable(r.status, r.err)
}

// prepare loads the event, runs the enrichment step and builds the
// request. When it returns ok false the delivery was settled (deferred or
// dead-lettered) or its claim given back.
func (d *Dispatcher) prepare(ctx context.Context, ds *dest, dl inbox.Delivery, log logrus.FieldLogger) (*inbox.Event, *outbound, bool) {
	ev, err := d.src.EventWithBody(dl.EventID)
	if errors.Is(err, inbox.ErrNotFound) {
		d.settleErr(dl, log, d.set.DeadLetter(dl, nil, "event not in the archive"))
		return nil, nil, false
	}
	if err != nil {
		log.WithError(err).Error("reading the event failed")
		d.defer_(ctx, dl, d.cfg.Now().Add(d.cfg.Backoff(ds.cfg.Backoff, dl.Failures+1, 0)), log)
		return nil, nil, false
	}
	body := ev.Body
	var prep PrepareResult
	if d.cfg.Prepare != nil {
		pctx, cancel := context.WithTimeout(ctx, prepareAllowance)
		prep, err = d.cfg.Prepare(pctx, ev)
		cancel()
		if err != nil {
			log.WithError(err).Warn("prepare failed; attempt postponed")
			d.defer_(ctx, dl, d.cfg.Now().Add(d.cfg.Backoff(ds.cfg.Backoff, dl.Failures+1, 0)), log)
			return nil, nil, false
		}
		if now := d.cfg.Now(); prep.WaitUntil.After(now) {
			d.defer_(ctx, dl, prep.WaitUntil, log)
			return nil, nil, false
		}
	}
	out, err := buildRequest(&ds.cfg, ev, body, prep, dl.Total+1)
	if err == nil {
		err = checkRequest(ev.ID, out.header)
	}
	if err != nil {
		d.unbuildable(dl, err, log)
		return nil, nil, false
	}
	if len(out.omitted) > 0 {
		log.WithField("headers", out.omitted).Info("headers left out: their values cannot be sent unchanged")
	}
	return ev, out, true
}

// unbuildable dead-letters dl, whose request cannot be built: retrying
// would build the same request again.
func (d *Dispatcher) unbuildable(dl inbox.Delivery, err error, log logrus.FieldLogger) {
	log.WithError(err).Warn("permanent failure; dead-lettered")
	d.settleErr(dl, log, d.set.DeadLetter(dl, nil, err.Error()))
}

// defer_ postpones dl to next without spending an attempt; when
// stopping (ctx ended: a failure may be the shutdown's doing) it gives
// the claim back instead.
func (d *Dispatcher) defer_(ctx context.Context, dl inbox.Delivery, next time.Time, log logrus.FieldLogger) {
	if d.stopping.Load() || ctx.Err() != nil {
		d.src.Release(dl)
		return
	}
	d.settleErr(dl, log, d.set.Retry(dl, next, nil))
}

// settle records r, classified by classify.
func (d *Dispatcher) settle(ds *dest, dl inbox.Delivery, at time.Time, r response, delivered, permanent bool, log logrus.FieldLogger) {
	a := attemptRecord(at, dl.Total+1, r)
	log = log.WithFields(logrus.Fields{"attempt": a.Number, "status": r.status, "latency_ms": a.LatencyMS})
	switch {
	case delivered:
		log.Debug("delivered")
		d.settleErr(dl, log, d.set.Ack(dl, a))
	case permanent:
		log.Warn("permanent failure; dead-lettered")
		d.settleErr(dl, log, d.set.DeadLetter(dl, &a, fmt.Sprintf("permanent failure: %s", a.Error)))
	case dl.Attempts+1 >= ds.cfg.MaxAttempts:
		log.WithField("error", a.Error).Warn("out of attempts; dead-lettered")
		d.settleErr(dl, log, d.set.DeadLetter(dl, &a, fmt.Sprintf("max attempts (%d) reached: %s", ds.cfg.MaxAttempts, a.Error)))
	default:
		next := d.cfg.Now().Add(d.cfg.Backoff(ds.cfg.Backoff, dl.Failures+1, r.retryAfter))
		log.WithField("error", a.Error).WithField("next_at", next).Info("attempt failed; will retry")
		d.settleErr(dl, log, d.set.Retry(dl, next, &a))
	}
}

// settleErr logs a failure to record an outcome. The entry stays
// claimed until its lease passes (the store keeps the claim of an
// outcome it could not record), so a failing store is not hammered and
// an outcome that was recorded after all is not sent again at once.
func (d *Dispatcher) settleErr(dl inbox.Delivery, log logrus.FieldLogger, err error) {
	switch {
	case err == nil:
	case errors.Is(err, inbox.ErrNotFound):
		log.Warn("outbox entry already settled, or claimed again since its lease passed")
	default:
		msg := err.Error()
		if len(msg) > 200 { // store errors can quote whole values
			msg = msg[:200] + "..."
		}
		log.WithField("error", msg).Error("recording the outcome failed; the entry stays queued, claimed until its lease passes")
	}
}
