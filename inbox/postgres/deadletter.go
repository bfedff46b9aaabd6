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

// DeadLetters lists the dead letters f selects, oldest event first.
// Destination, source and time bounds are applied by the database; the
// type glob (inbox.MatchGlob) and the limit here.
func (db *DB) DeadLetters(f inbox.DeadLetterFilter) ([]inbox.DeadLetter, error) {
	// The filter's texts as the columns they are compared with store
	// them (a NUL or invalid UTF-8 as U+FFFD): PostgreSQL refuses either
	// as a text parameter.
	f.Source, f.Destination, f.Type = asStored(f.Source), asStored(f.Destination), asStored(f.Type)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var since, until *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	if !f.Until.IsZero() {
		until = &f.Until
	}
	// received_at is read from the event's received_ns, to the
	// nanosecond as the event shows it (timestamptz keeps microseconds).
	rows, err := db.pool.Query(ctx, `SELECT d.event_id, d.destination, d.source, d.type, d.interview_id, d.received_at,
  e.received_ns, d.at, d.reason, d.attempts, d.last_status
FROM dead_letters AS d LEFT JOIN events AS e ON e.id = d.event_id
WHERE ($1 = '' OR d.destination = $1) AND ($2 = '' OR d.source = $2)
  AND ($3::timestamptz IS NULL OR d.at >= $3) AND ($4::timestamptz IS NULL OR d.at < $4)
ORDER BY d.event_id, d.destination`, f.Destination, f.Source, since, until)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	var out []inbox.DeadLetter
	var dl inbox.DeadLetter
	var ns *int64
	_, err = pgx.ForEachRow(rows, []any{&dl.EventID, &dl.Destination, &dl.Source, &dl.Type, &dl.InterviewID,
		&dl.ReceivedAt, &ns, &dl.At, &dl.Reason, &dl.Attempts, &dl.LastStatus}, func() error {
		if ns != nil {
			dl.ReceivedAt = time.Unix(0, *ns).UTC()
		}
		if f.Match(&dl) && (f.Limit <= 0 || len(out) < f.Limit) {
			out = append(out, dl)
		}
		return nil
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
// history, and every node is woken, when Replay returns.
func (db *DB) Replay(id, dest string, r inbox.ReplayRequest) ([]string, error) {
	var queued []string
	err := db.settle(func(ctx context.Context, tx pgx.Tx) error {
		queued = queued[:0]
		ev, err := lockEvent(ctx, tx, id)
		if err != nil {
			return err
		}
		dests, err := inbox.ReplayTargets(ev, dest, r)
		if err != nil {
			return err
		}
		now := db.opt.Now()
		for _, ds := range dests {
			ok, err := db.requeue(ctx, tx, ev, ds, r, now)
			if err != nil {
				return err
			}
			if ok {
				queued = append(queued, ds)
			}
		}
		if len(queued) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, notifySQL, db.channel)
		return err
	})
	if err != nil {
		return nil, err
	}
	return queued, nil
}

// lockEvent reads what a replay needs of event id, holding its row
// against retention until the transaction ends.
func lockEvent(ctx context.Context, tx pgx.Tx, id string) (*inbox.Event, error) {
	var ev inbox.Event
	var seq int64
	var status string
	var dests []byte
	err := tx.QueryRow(ctx, `SELECT id, seq, status, interview_id, destinations, COALESCE(duplicate_of, '') FROM events WHERE id = $1 FOR SHARE`, id).
		Scan(&ev.ID, &seq, &status, &ev.InterviewID, &dests, &ev.DuplicateOf)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("event %s: %w", id, inbox.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	ev.Seq, ev.Status = uint64(seq), inbox.Status(status)
	if err := json.Unmarshal(dests, &ev.Destinations); err != nil {
		return nil, fmt.Errorf("event %s destinations: %w", id, err)
	}
	return &ev, nil
}

// requeue queues one destination of a replay, due at now; false when it
// is pending (its outbox row is there, or a concurrent replay put it
// there first). Attempts ever made carry over into the new row's total.
func (db *DB) requeue(ctx context.Context, tx pgx.Tx, ev *inbox.Event, dest string, r inbox.ReplayRequest, now time.Time) (bool, error) {
	ct, err := tx.Exec(ctx, `INSERT INTO outbox (event_id, destination, interview_id, seq, due_at, total)
SELECT $1, $2, $3, $4, $5, coalesce((SELECT attempts FROM delivery_state WHERE event_id = $1 AND destination = $2), 0)
ON CONFLICT DO NOTHING`, ev.ID, dest, ev.InterviewID, int64(ev.Seq), now)
	if err != nil {
		return false, fmt.Errorf("replay %s/%s: %w", ev.ID, dest, err)
	}
	if ct.RowsAffected() == 0 {
		return false, nil
	}
	for _, table := range []string{"delivery_state", "dead_letters"} {
		_, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE event_id = $1 AND destination = $2`, ev.ID, dest)
		if err != nil {
			return false, fmt.Errorf("replay %s/%s: %w", ev.ID, dest, err)
		}
	}
	a := inbox.Attempt{Kind: inbox.AttemptReplay, At: now, Outcome: inbox.OutcomeQueued, By: r.By, Reason: r.Reason}
	return true, recordAttempt(ctx, tx, ev.ID, dest, a)
}

// ReplayDead replays every dead letter f selects (f.Limit caps how many).
func (db *DB) ReplayDead(f inbox.DeadLetterFilter, r inbox.ReplayRequest) (inbox.BulkReplay, error) {
	return inbox.ReplayDead(db, f, r)
}
