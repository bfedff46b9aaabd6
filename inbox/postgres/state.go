package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// Deliveries returns the forwarding state of event id per destination,
// by destination: pending ones from the outbox, settled ones from
// delivery_state. An event never queued has none.
func (db *DB) Deliveries(id string) ([]inbox.DeliveryState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := db.pool.Query(ctx, `
SELECT destination, $2, total, due_at, last_error, coalesce(updated_at, due_at) FROM outbox WHERE event_id = $1
UNION ALL
SELECT destination, status, attempts, NULL, last_error, updated_at FROM delivery_state WHERE event_id = $1
ORDER BY 1`, id, inbox.DeliveryPending)
	if err != nil {
		return nil, fmt.Errorf("deliveries %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (inbox.DeliveryState, error) {
		var st inbox.DeliveryState
		var next *time.Time
		err := row.Scan(&st.Destination, &st.Status, &st.Attempts, &next, &st.LastError, &st.UpdatedAt)
		if next != nil {
			st.NextAt = *next
		}
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("deliveries %s: %w", id, err)
	}
	return out, nil
}

// Attempts returns the delivery history of event id, every destination,
// by destination and then in order. An event never forwarded has none.
func (db *DB) Attempts(id string) ([]inbox.Attempt, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT destination, n, record FROM attempts WHERE event_id = $1
ORDER BY destination, n`, id)
	if err != nil {
		return nil, fmt.Errorf("attempts %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (inbox.Attempt, error) {
		var a inbox.Attempt
		var dest string
		var n int64
		var rec []byte
		if err := row.Scan(&dest, &n, &rec); err != nil {
			return a, err
		}
		if err := json.Unmarshal(rec, &a); err != nil {
			return a, err
		}
		a.Destination, a.N = dest, uint64(n)
		return a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("attempts %s: %w", id, err)
	}
	return out, nil
}
