package badger

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// The settle calls below are how the forwarder records an outcome. Each
// is one transaction: the outbox entry, the delivery state, the order
// index and the history line change together. They fail with ErrNotFound
// when the outbox entry is gone (settled already).
//
// Each ends d's claim (claim.go) once its commit has returned, or when
// the entry was gone. When recording fails otherwise the claim stays
// until its lease passes: the commit may have been applied all the same,
// and a failing store is not asked again at once.
//
// The settle writer may run a function twice (batched, then alone after
// the batch was discarded), so each works on copies of its arguments and
// leaves the captured ones as the caller gave them.

// Ack records a successful attempt and removes d from the outbox.
func (db *DB) Ack(d0 inbox.Delivery, a0 inbox.Attempt) error {
	return db.settleClaimed(&d0, func(txn *badger.Txn) error {
		d, a := d0, a0
		if err := takeOutbox(txn, &d); err != nil {
			return err
		}
		d.Total++
		a.Outcome = inbox.OutcomeDelivered
		return db.finish(txn, &d, &a, inbox.DeliveryDelivered, "")
	})
}

// Retry moves d to next. With a non-nil attempt it also counts and
// records that attempt; with nil it only defers d (nothing was sent).
func (db *DB) Retry(d0 inbox.Delivery, next time.Time, a0 *inbox.Attempt) error {
	err := db.settleClaimed(&d0, func(txn *badger.Txn) error {
		d, a := d0, a0
		if a != nil {
			cp := *a
			a = &cp
		}
		if err := takeOutbox(txn, &d); err != nil {
			return err
		}
		now := db.opt.Now()
		last := ""
		if a != nil {
			d.Attempts++
			d.Total++
			d.Failures++
			a.Outcome, a.NextAt = inbox.OutcomeRetry, next
			last = attemptError(a)
			if err := recordAttempt(txn, d.EventID, d.Destination, *a); err != nil {
				return err
			}
		}
		d.DueAt = next
		if err := putJSON(txn, outboxKey(d.DueAt, d.EventID, d.Destination), d); err != nil {
			return err
		}
		st := inbox.DeliveryState{Destination: d.Destination, Status: inbox.DeliveryPending, Attempts: d.Total, NextAt: next, LastError: last, UpdatedAt: now}
		return putJSON(txn, deliveryKey(d.EventID, d.Destination), st)
	})
	// Lowering is always safe, and a commit that reported an error may
	// still have been applied (Badger writes the memtable before it syncs).
	db.floor.lower(next)
	return err
}

// DeadLetter removes d from the outbox and keeps it as a dead letter with
// reason. a is the last attempt, nil when none was made for this reason.
func (db *DB) DeadLetter(d0 inbox.Delivery, a0 *inbox.Attempt, reason string) error {
	return db.settleClaimed(&d0, func(txn *badger.Txn) error {
		d := d0
		if err := takeOutbox(txn, &d); err != nil {
			return err
		}
		var a *inbox.Attempt
		if a0 == nil {
			a = &inbox.Attempt{Kind: inbox.AttemptSend, At: db.opt.Now(), Error: reason}
		} else {
			cp := *a0
			a = &cp
			d.Attempts++
			d.Total++
		}
		a.Outcome = inbox.OutcomeDead
		if err := putDeadLetter(txn, &d, a, reason); err != nil {
			return err
		}
		return db.finish(txn, &d, a, inbox.DeliveryDead, reason)
	})
}

// settleClaimed runs fn through the settle writer and then ends d's
// claim, unless recording failed for another reason than a missing entry.
// A claim another claim has taken since settles nothing.
func (db *DB) settleClaimed(d *inbox.Delivery, fn func(txn *badger.Txn) error) error {
	if db.claims.retaken(d) {
		return fmt.Errorf("outbox %s/%s: claimed again since: %w", d.EventID, d.Destination, inbox.ErrNotFound)
	}
	err := db.settle(fn)
	if err == nil || errors.Is(err, inbox.ErrNotFound) {
		db.claims.drop(d)
	}
	return err
}

// finish records a and the final state of d, and releases d's place in
// its interview's order so the next event can go.
func (db *DB) finish(txn *badger.Txn, d *inbox.Delivery, a *inbox.Attempt, status, lastErr string) error {
	if err := recordAttempt(txn, d.EventID, d.Destination, *a); err != nil {
		return err
	}
	if d.InterviewID != "" {
		if err := txn.Delete(orderKey(d)); err != nil {
			return fmt.Errorf("release order: %w", err)
		}
	}
	st := inbox.DeliveryState{Destination: d.Destination, Status: status, Attempts: d.Total, LastError: lastErr, UpdatedAt: db.opt.Now()}
	return putJSON(txn, deliveryKey(d.EventID, d.Destination), st)
}

func attemptError(a *inbox.Attempt) string {
	if a.Error != "" {
		return a.Error
	}
	if a.Status != 0 {
		return fmt.Sprintf("status %d", a.Status)
	}
	return ""
}

// updateAlone runs fn in its own transaction, retrying on conflicts.
func (db *DB) updateAlone(fn func(txn *badger.Txn) error) error {
	var err error
	for range 5 {
		err = db.bdb.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}
