package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// abandonChunk is how many outbox rows one Abandon transaction
// dead-letters at most, so a huge backlog never makes one huge
// transaction.
const abandonChunk = 500

// abandonSQL moves up to $5 outbox rows of destination $1 whose lease is
// free at $2 to the dead letters, as DeadLetter does one row: the dead
// letter with reason $3, the delivery state dead, and the history line
// $4 (the rows differ only in event id, and each gets the next number
// after its own last record). Rows another transaction holds (a node
// claiming or settling them now) are skipped. Rows are taken in
// outbox_claim's order, so each chunk reads the index, not every row of
// the destination. It returns how many it moved.
const abandonSQL = `
WITH pick AS (
  SELECT event_id, destination FROM outbox
  WHERE destination = $1 AND (lease_until IS NULL OR lease_until <= $2)
  ORDER BY due_at, seq
  LIMIT $5
  FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM outbox o USING pick p
  WHERE o.event_id = p.event_id AND o.destination = p.destination
  RETURNING o.event_id, o.destination, o.interview_id, o.total
), dead AS (
  INSERT INTO dead_letters (event_id, destination, source, type, interview_id, received_at, at, reason, attempts, last_status)
  SELECT g.event_id, g.destination, e.source, COALESCE(e.type_full, e.type), g.interview_id, e.received_at, $2, $3, g.total, 0
  FROM gone g JOIN events e ON e.id = g.event_id
  ON CONFLICT (event_id, destination) DO UPDATE SET at = excluded.at, reason = excluded.reason,
    attempts = excluded.attempts, last_status = excluded.last_status
), state AS (
  INSERT INTO delivery_state (event_id, destination, status, attempts, last_error, updated_at)
  SELECT g.event_id, g.destination, 'dead', g.total, $3, $2 FROM gone g
  ON CONFLICT (event_id, destination) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
    last_error = excluded.last_error, updated_at = excluded.updated_at
), history AS (
  INSERT INTO attempts (event_id, destination, n, record)
  SELECT g.event_id, g.destination,
    coalesce((SELECT max(n) FROM attempts a WHERE a.event_id = g.event_id AND a.destination = g.destination), 0) + 1, $4::json
  FROM gone g
)
SELECT count(*) FROM gone`

// leasedSQL counts the rows of destination $1 whose lease holds at $2.
const leasedSQL = `SELECT count(*) FROM outbox WHERE destination = $1 AND lease_until > $2`

// Abandon dead-letters every pending delivery to dest whose lease, if
// any, has passed at now (nodes' clocks in sync, as for Claim), one
// transaction per abandonChunk rows; see inbox.Outbox. Leased counts the
// rows still leased once it is done.
func (db *DB) Abandon(dest string, r inbox.AbandonRequest, now time.Time) (inbox.Abandoned, error) {
	return db.abandon(dest, r, now, abandonChunk)
}

// abandon is Abandon in transactions of at most chunk rows.
func (db *DB) abandon(dest string, r inbox.AbandonRequest, now time.Time, chunk int) (inbox.Abandoned, error) {
	var out inbox.Abandoned
	a := inbox.Attempt{Kind: inbox.AttemptAbandon, At: now, Outcome: inbox.OutcomeDead, Destination: dest, By: r.By, Reason: r.Reason}
	record, err := json.Marshal(a)
	if err != nil {
		return out, fmt.Errorf("abandon %s: %w", dest, err)
	}
	dest, reason := asStored(dest), noNUL(r.Reason)
	for {
		var n int
		err := db.settle(func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, abandonSQL, dest, now, reason, string(record), chunk).Scan(&n)
		})
		if err != nil {
			return out, fmt.Errorf("abandon %s: %w", dest, err)
		}
		out.DeadLettered += n
		if n < chunk {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := db.pool.QueryRow(ctx, leasedSQL, dest, now).Scan(&out.Leased); err != nil {
		return out, fmt.Errorf("abandon %s: count leased: %w", dest, err)
	}
	return out, nil
}
