package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// opTimeout bounds one outbox call's work in the database, so a database
// that stops answering fails the call instead of stalling the forwarder.
const opTimeout = 30 * time.Second

// claimSQL leases, for each destination of $1 (at most $2 of it), the
// earliest rows due at $3 whose lease is free, that are first in their
// interview's order for their destination: no row of the same
// destination and interview has a lower seq, whether due, leased or
// waiting to retry. FOR UPDATE SKIP LOCKED passes over rows another
// node is claiming at this moment; one whose claim committed meanwhile
// is checked again once locked, and its new lease leaves it out.
const claimSQL = `
WITH claimed AS (
UPDATE outbox o SET lease_owner = $4, lease_until = $5
FROM (
  SELECT c.event_id, c.destination
  FROM unnest($1::text[], $2::int[]) AS w (destination, n)
  CROSS JOIN LATERAL (
    SELECT event_id, destination FROM outbox x
    WHERE x.destination = w.destination AND x.due_at <= $3
      AND (x.lease_until IS NULL OR x.lease_until <= $3)
      AND (x.interview_id = '' OR NOT EXISTS (
        SELECT 1 FROM outbox h
        WHERE h.destination = x.destination AND h.interview_id = x.interview_id AND h.seq < x.seq))
    ORDER BY x.due_at, x.seq
    LIMIT w.n
    FOR UPDATE SKIP LOCKED) AS c
) AS pick
WHERE o.event_id = pick.event_id AND o.destination = pick.destination
RETURNING ` + deliveryCols + `, o.lease_until)
SELECT * FROM claimed ORDER BY due_at, seq, destination`

// deliveryCols are the columns scanClaimed reads before the lease end.
const deliveryCols = `o.event_id, o.destination, o.interview_id, o.seq, o.attempts, o.total, o.due_at, o.failures`

// nextSQL is the earliest time after $1 at which an outbox row becomes
// due or its lease runs out.
const nextSQL = `SELECT least(
  (SELECT min(due_at) FROM outbox WHERE due_at > $1),
  (SELECT min(lease_until) FROM outbox WHERE lease_until > $1))`

// Claim returns the deliveries due at now, earliest due first: for each
// destination named in want, at most want[destination]. Each is the
// earliest pending delivery of its interview for its destination (an
// empty interview id imposes no order), and none is leased by a node
// whose lease still holds at now. Each returned is leased to this node
// until now+lease: another node may claim it after that, as it would
// the deliveries of a node that died mid-attempt.
//
// now, not the database's clock, decides what is due and which leases
// have passed: nodes sharing a database must keep their clocks in sync
// (NTP), or one node may take another's claim early.
//
// next is the earliest time after now at which any outbox row becomes
// due or its lease runs out, zero when there is none. Rows due now that
// were not returned (their destination's share was full, or an earlier
// delivery of their interview is pending) are not in it: settling or
// releasing a claim is what lets them go.
func (db *DB) Claim(now time.Time, want map[string]int, lease time.Duration) (due []inbox.Delivery, next time.Time, err error) {
	if err := db.isOpen(); err != nil {
		return nil, time.Time{}, err
	}
	ctx, cancel := context.WithTimeout(db.ctx, opTimeout)
	defer cancel()
	var nx *time.Time
	if err := db.pool.QueryRow(ctx, nextSQL, now).Scan(&nx); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim: next due: %w", err)
	}
	if nx != nil {
		next = *nx
	}
	var dests []string
	var counts []int32
	for d, n := range want {
		if n > 0 {
			dests, counts = append(dests, d), append(counts, int32(n))
		}
	}
	if len(dests) == 0 {
		return nil, next, nil
	}
	until := now.Add(lease)
	rows, err := db.pool.Query(ctx, claimSQL, dests, counts, now, db.node, until)
	if err == nil {
		due, err = pgx.CollectRows(rows, scanClaimed)
	}
	if err != nil {
		db.unclaim(until)
		return nil, time.Time{}, fmt.Errorf("claim: %w", err)
	}
	return due, next, nil
}

// unclaim clears, best effort, the leases a failed Claim call took
// until until: the call may have committed before failing to return its
// rows, and nobody would work them until the lease passed.
func (db *DB) unclaim(until time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := db.pool.Exec(ctx, `UPDATE outbox SET lease_owner = NULL, lease_until = NULL
WHERE lease_owner = $1 AND lease_until = $2`, db.node, until)
	if err != nil {
		db.log.WithField("error", err.Error()).Warn("claim failed; its leases will run out instead")
	}
}

// scanClaimed reads a delivery claimSQL returned, with its claim token.
func scanClaimed(row pgx.CollectableRow) (inbox.Delivery, error) {
	var d inbox.Delivery
	var seq int64
	var until time.Time
	err := row.Scan(&d.EventID, &d.Destination, &d.InterviewID, &seq, &d.Attempts, &d.Total, &d.DueAt, &d.Failures, &until)
	d.Seq, d.Claim = uint64(seq), claimToken(until)
	return d, err
}

// A claim's token is the lease end it wrote, in microseconds (the
// column's precision). The row's lease_owner and lease_until name its
// latest claim: a later claim, by this node or another, only takes the
// row once the lease passed, and writes a later end. So a settle that
// matches both acts only for the latest claim, lapsed or not, and a
// retaken claim's late settle matches nothing (fencing).
func claimToken(until time.Time) string { return strconv.FormatInt(until.UnixMicro(), 10) }

// claimUntil is the lease end token names; nil (matching no row) when
// it names none.
func claimUntil(token string) *time.Time {
	n, err := strconv.ParseInt(token, 10, 64)
	if err != nil {
		return nil
	}
	t := time.UnixMicro(n)
	return &t
}

// claimMatch is the condition that the outbox row ($1 event, $2
// destination) is still held by the claim named by $3 (node) and $4
// (claimUntil).
const claimMatch = `event_id = $1 AND destination = $2 AND lease_owner = $3 AND lease_until = $4`

// Release gives back a claim of this node without recording an attempt:
// the delivery is due again at once, for any node, which it wakes. A
// claim another has taken since is left alone.
func (db *DB) Release(d inbox.Delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		ct, err := tx.Exec(ctx, `UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE `+claimMatch,
			d.EventID, d.Destination, db.node, claimUntil(d.Claim))
		if err != nil || ct.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, notifySQL, db.channel)
		return err
	})
	if err != nil {
		db.log.WithField("event_id", d.EventID).WithField("destination", d.Destination).
			WithField("error", err.Error()).Warn("release claim: its lease will run out instead")
	}
}

// isOpen is nil until Close begins, then inbox.ErrClosed.
func (db *DB) isOpen() error {
	select {
	case <-db.closing:
		return inbox.ErrClosed
	default:
		return nil
	}
}

// selectEvent reads one event with its body, in scanRecord's order.
const selectEvent = `SELECT seq, id, source, provider, COALESCE(type_full, type), interview_id, status, quarantine_reason,
  origin, received_ns, remote_addr, request_id, headers, content_type, body_sha256, body_size,
  verification, dedup_keys, destinations, prev_hash, hash, COALESCE(duplicate_of, ''), body
FROM events WHERE id = $1`

// EventWithBody returns event id with its Body filled, for forwarding,
// or an error wrapping inbox.ErrNotFound.
func (db *DB) EventWithBody(id string) (*inbox.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := db.pool.Query(ctx, selectEvent, id)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	rec, err := pgx.CollectExactlyOneRow(rows, scanRecord)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("event %s: %w", id, inbox.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	rec.Event.Body = rec.Body
	return rec.Event, nil
}

// The engine is the forwarder's outbox and runs as a store.
var (
	_ inbox.Outbox = (*DB)(nil)
	_ inbox.Ops    = (*DB)(nil)
)
