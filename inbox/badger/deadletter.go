package badger

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// pfxDead holds dead letters: deliveries that got a permanent failure or
// ran out of attempts. They stay until replayed.
const pfxDead = "x/" // x/<id>/<destination> → DeadLetter (JSON)

func deadKey(id, dest string) []byte { return []byte(pfxDead + id + "/" + dest) }

func putDeadLetter(txn *badger.Txn, d *inbox.Delivery, a *inbox.Attempt, reason string) error {
	var ev inbox.Event
	if _, err := getEvent(txn, d.EventID, &ev, false); err != nil && !errors.Is(err, inbox.ErrNotFound) {
		return err
	}
	dl := inbox.DeadLetter{
		EventID: d.EventID, Destination: d.Destination, Source: ev.Source, Type: ev.Type,
		InterviewID: d.InterviewID, ReceivedAt: ev.ReceivedAt, At: a.At, Reason: reason,
		Attempts: d.Total, LastStatus: a.Status,
	}
	return putJSON(txn, deadKey(d.EventID, d.Destination), dl)
}

// DeadLetters lists the dead letters f selects, oldest event first.
func (db *DB) DeadLetters(f inbox.DeadLetterFilter) ([]inbox.DeadLetter, error) {
	var out []inbox.DeadLetter
	err := db.bdb.View(func(txn *badger.Txn) error {
		return scanJSON(txn, pfxDead, func(dl *inbox.DeadLetter) error {
			if f.Match(dl) && (f.Limit <= 0 || len(out) < f.Limit) {
				out = append(out, *dl)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}

// Replay queues event id again, keeping its id, for destination dest or,
// when dest is empty, every destination it was accepted for. A
// destination whose delivery is still pending is left as it is. It
// returns the destinations queued; the request is recorded in each one's
// history and the store is synced before Replay returns.
func (db *DB) Replay(id, dest string, r inbox.ReplayRequest) ([]string, error) {
	var queued []string
	var now time.Time
	err := db.settle(func(txn *badger.Txn) error {
		queued = queued[:0]
		now = db.opt.Now()
		// The refusals below come before anything is written: untouched,
		// so they do not spoil a settle batch.
		var ev inbox.Event
		if _, err := getEvent(txn, id, &ev, false); err != nil {
			return untouched{fmt.Errorf("event %s: %w", id, err)}
		}
		dests, err := inbox.ReplayTargets(&ev, dest, r)
		if err != nil {
			return untouched{err}
		}
		for _, ds := range dests {
			ok, err := db.requeue(txn, &ev, ds, r, now)
			if err != nil {
				return err
			}
			if ok {
				queued = append(queued, ds)
			}
		}
		return nil
	})
	if !now.IsZero() {
		// Even after an error: a failed commit may have been applied.
		db.floor.lower(now)
	}
	if err != nil {
		return nil, err
	}
	if len(queued) > 0 {
		// The commit was synced (SyncWrites): the entries are durable.
		db.signalWake()
	}
	return queued, nil
}

// requeue stages one destination of a replay, due at now; false when it
// is pending.
func (db *DB) requeue(txn *badger.Txn, ev *inbox.Event, dest string, r inbox.ReplayRequest, now time.Time) (bool, error) {
	var st inbox.DeliveryState
	err := getJSON(txn, deliveryKey(ev.ID, dest), &st)
	if err != nil && !errors.Is(err, inbox.ErrNotFound) {
		return false, err
	}
	if err == nil && st.Status == inbox.DeliveryPending {
		return false, nil
	}
	if err := txn.Delete(deadKey(ev.ID, dest)); err != nil {
		return false, fmt.Errorf("replay: %w", err)
	}
	d := inbox.Delivery{EventID: ev.ID, Destination: dest, InterviewID: ev.InterviewID, Seq: ev.Seq, Total: st.Attempts, DueAt: now}
	a := inbox.Attempt{Kind: inbox.AttemptReplay, At: now, Outcome: inbox.OutcomeQueued, By: r.By, Reason: r.Reason}
	if err := recordAttempt(txn, ev.ID, dest, a); err != nil {
		return false, err
	}
	return true, queue(txn, &d, now)
}

// ReplayDead replays every dead letter f selects (f.Limit caps how many).
func (db *DB) ReplayDead(f inbox.DeadLetterFilter, r inbox.ReplayRequest) (inbox.BulkReplay, error) {
	return inbox.ReplayDead(db, f, r)
}
