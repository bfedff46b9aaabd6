package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// The settle calls below are how the forwarder records an outcome. Each
// is one transaction: the outbox row, the delivery state and the history
// change together, and the row's lease is cleared. They fail with an
// error wrapping inbox.ErrNotFound when the outbox row is gone or was
// moved (settled already, by this node or another whose claim followed
// an expired lease), matching the row by event, destination and due
// time as Claim returned them.

// Ack records a successful attempt and removes d from the outbox.
func (db *DB) Ack(d inbox.Delivery, a inbox.Attempt) error {
	return db.settle(func(ctx context.Context, tx pgx.Tx) error {
		if err := takeOutbox(ctx, tx, &d); err != nil {
			return err
		}
		d.Total++
		a.Outcome = inbox.OutcomeDelivered
		return db.finish(ctx, tx, &d, &a, inbox.DeliveryDelivered, "")
	})
}

// Retry moves d to next and clears its lease. With a non-nil attempt it
// also counts and records that attempt; with nil it only defers d
// (nothing was sent). A retry due at once wakes every node.
func (db *DB) Retry(d inbox.Delivery, next time.Time, a *inbox.Attempt) error {
	return db.settle(func(ctx context.Context, tx pgx.Tx) error {
		now := db.opt.Now()
		last := ""
		if a != nil {
			cp := *a
			cp.Outcome, cp.NextAt = inbox.OutcomeRetry, next
			d.Attempts++
			d.Total++
			d.Failures++
			last = noNUL(attemptError(&cp))
			if err := recordAttempt(ctx, tx, d.EventID, d.Destination, cp); err != nil {
				return err
			}
		}
		ct, err := tx.Exec(ctx, `UPDATE outbox SET due_at = $4, attempts = $5, total = $6, failures = $7,
  last_error = CASE WHEN $8 THEN $9 ELSE last_error END, updated_at = $10, lease_owner = NULL, lease_until = NULL
WHERE event_id = $1 AND destination = $2 AND due_at = $3`,
			d.EventID, d.Destination, d.DueAt, next, d.Attempts, d.Total, d.Failures, a != nil, last, now)
		if err != nil {
			return fmt.Errorf("retry %s/%s: %w", d.EventID, d.Destination, err)
		}
		if ct.RowsAffected() == 0 {
			return fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, inbox.ErrNotFound)
		}
		if next.After(now) {
			return nil
		}
		_, err = tx.Exec(ctx, notifySQL, db.channel)
		return err
	})
}

// DeadLetter removes d from the outbox and keeps it as a dead letter with
// reason. a is the last attempt, nil when none was made for this reason.
func (db *DB) DeadLetter(d inbox.Delivery, a0 *inbox.Attempt, reason string) error {
	return db.settle(func(ctx context.Context, tx pgx.Tx) error {
		if err := takeOutbox(ctx, tx, &d); err != nil {
			return err
		}
		var a inbox.Attempt
		if a0 == nil {
			a = inbox.Attempt{Kind: inbox.AttemptSend, At: db.opt.Now(), Error: reason}
		} else {
			a = *a0
			d.Attempts++
			d.Total++
		}
		a.Outcome = inbox.OutcomeDead
		_, err := tx.Exec(ctx, `INSERT INTO dead_letters (event_id, destination, source, type, interview_id,
  received_at, at, reason, attempts, last_status)
SELECT id, $2, source, type, $3, received_at, $4, $5, $6, $7 FROM events WHERE id = $1
ON CONFLICT (event_id, destination) DO UPDATE SET at = excluded.at, reason = excluded.reason,
  attempts = excluded.attempts, last_status = excluded.last_status`,
			d.EventID, d.Destination, d.InterviewID, a.At, noNUL(reason), d.Total, a.Status)
		if err != nil {
			return fmt.Errorf("dead letter %s/%s: %w", d.EventID, d.Destination, err)
		}
		return db.finish(ctx, tx, &d, &a, inbox.DeliveryDead, reason)
	})
}

// settle runs fn in a transaction of its own.
func (db *DB) settle(fn func(ctx context.Context, tx pgx.Tx) error) error {
	if err := db.isOpen(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
}

// takeOutbox deletes d's outbox row, failing with inbox.ErrNotFound when
// it is no longer there as d knew it.
func takeOutbox(ctx context.Context, tx pgx.Tx, d *inbox.Delivery) error {
	ct, err := tx.Exec(ctx, `DELETE FROM outbox WHERE event_id = $1 AND destination = $2 AND due_at = $3`,
		d.EventID, d.Destination, d.DueAt)
	if err != nil {
		return fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, inbox.ErrNotFound)
	}
	return nil
}

// finish records a and the final state of d.
func (db *DB) finish(ctx context.Context, tx pgx.Tx, d *inbox.Delivery, a *inbox.Attempt, status, lastErr string) error {
	if err := recordAttempt(ctx, tx, d.EventID, d.Destination, *a); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO delivery_state (event_id, destination, status, attempts, last_error, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (event_id, destination) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
  last_error = excluded.last_error, updated_at = excluded.updated_at`,
		d.EventID, d.Destination, status, d.Total, noNUL(lastErr), db.opt.Now())
	if err != nil {
		return fmt.Errorf("delivery state %s/%s: %w", d.EventID, d.Destination, err)
	}
	return nil
}

// recordAttempt appends a to the history of (id, dest), numbered after
// the last record there. Settling holds the outbox row, so one delivery's
// records are appended one at a time.
func recordAttempt(ctx context.Context, tx pgx.Tx, id, dest string, a inbox.Attempt) error {
	a.Destination = dest
	if len(a.Response) > inbox.MaxAttemptResponse {
		a.Response = a.Response[:inbox.MaxAttemptResponse]
	}
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO attempts (event_id, destination, n, record)
SELECT $1, $2, coalesce(max(n), 0) + 1, $3 FROM attempts WHERE event_id = $1 AND destination = $2`,
		id, dest, string(b))
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	return nil
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
