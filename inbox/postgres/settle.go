package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// The settle calls below are how the forwarder records an outcome. Each
// is one transaction: the outbox row, the delivery state and the history
// change together, and the row's lease is cleared. They match the row
// only while d's claim is its latest (claimMatch), and fail with an
// error wrapping inbox.ErrNotFound when it is gone or another claim took
// it since (after this one's lease passed): that claim is left whole.

// Ack records a successful attempt and removes d from the outbox. When
// another claim took the row since, the attempt is still appended to the
// history (the event was sent) but the row, its state and its order are
// left to the new claim, and Ack fails with an error wrapping
// inbox.ErrNotFound.
func (db *DB) Ack(d inbox.Delivery, a inbox.Attempt) error {
	lost := false
	err := db.settle(func(ctx context.Context, tx pgx.Tx) error {
		a.Outcome = inbox.OutcomeDelivered
		err := db.takeOutbox(ctx, tx, &d)
		if errors.Is(err, inbox.ErrNotFound) {
			lost = true
			return db.recordLost(ctx, tx, &d, a)
		}
		if err != nil {
			return err
		}
		d.Total++
		return db.finish(ctx, tx, &d, &a, inbox.DeliveryDelivered, "")
	})
	if err == nil && lost {
		err = fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, inbox.ErrNotFound)
	}
	return err
}

// recordLost appends a, the attempt of a claim another claim took since,
// to the history of d, when d's outbox row is still there: locking it
// keeps the history's numbering one writer at a time.
func (db *DB) recordLost(ctx context.Context, tx pgx.Tx, d *inbox.Delivery, a inbox.Attempt) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM outbox WHERE event_id = $1 AND destination = $2 FOR UPDATE`,
		d.EventID, d.Destination).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, err)
	}
	return recordAttempt(ctx, tx, d.EventID, d.Destination, a)
}

// Retry moves d to next and clears its lease. With a non-nil attempt it
// also counts and records that attempt; with nil it only defers d
// (nothing was sent). A retry due at once wakes every node.
func (db *DB) Retry(d inbox.Delivery, next time.Time, a *inbox.Attempt) error {
	return db.settle(func(ctx context.Context, tx pgx.Tx) error {
		now := db.opt.Now()
		last := ""
		var cp inbox.Attempt
		if a != nil {
			cp = *a
			cp.Outcome, cp.NextAt = inbox.OutcomeRetry, next
			d.Attempts++
			d.Total++
			d.Failures++
			last = noNUL(attemptError(&cp))
		}
		ct, err := tx.Exec(ctx, `UPDATE outbox SET due_at = $5, attempts = $6, total = $7, failures = $8,
  last_error = CASE WHEN $9 THEN $10 ELSE last_error END, updated_at = $11, lease_owner = NULL, lease_until = NULL
WHERE `+claimMatch,
			d.EventID, d.Destination, db.node, claimUntil(d.Claim), next, d.Attempts, d.Total, d.Failures, a != nil, last, now)
		if err != nil {
			return fmt.Errorf("retry %s/%s: %w", d.EventID, d.Destination, err)
		}
		if ct.RowsAffected() == 0 {
			return fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, inbox.ErrNotFound)
		}
		if a != nil {
			if err := recordAttempt(ctx, tx, d.EventID, d.Destination, cp); err != nil {
				return err
			}
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
		if err := db.takeOutbox(ctx, tx, &d); err != nil {
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
SELECT id, $2, source, COALESCE(type_full, type), $3, received_at, $4, $5, $6, $7 FROM events WHERE id = $1
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
// it is gone or held by another claim than d's. Removing the head of an
// interview makes its next event due, so every node is woken.
func (db *DB) takeOutbox(ctx context.Context, tx pgx.Tx, d *inbox.Delivery) error {
	ct, err := tx.Exec(ctx, `DELETE FROM outbox WHERE `+claimMatch,
		d.EventID, d.Destination, db.node, claimUntil(d.Claim))
	if err != nil {
		return fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, inbox.ErrNotFound)
	}
	if d.InterviewID == "" {
		return nil
	}
	if _, err := tx.Exec(ctx, notifySQL, db.channel); err != nil {
		return fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, err)
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
