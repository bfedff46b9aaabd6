package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// exportChunk is how many events one Export query reads.
const exportChunk = 256

const selectEvents = `SELECT seq, id, source, provider, type, interview_id, status, quarantine_reason,
  origin, received_ns, remote_addr, request_id, headers, content_type, body_sha256, body_size,
  verification, dedup_keys, destinations, prev_hash, hash, body
FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`

// Export calls fn for every archived event, oldest first, which is chain
// order, with its body: the records inbox.VerifyExport checks. Events are
// read a chunk at a time.
func (db *DB) Export(ctx context.Context, fn func(inbox.Record) error) error {
	var after int64
	for {
		recs, err := db.exportChunk(ctx, after)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(recs) < exportChunk {
			return nil
		}
		after = int64(recs[len(recs)-1].Seq)
	}
}

func (db *DB) exportChunk(ctx context.Context, after int64) ([]inbox.Record, error) {
	rows, err := db.pool.Query(ctx, selectEvents, after, exportChunk)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	recs, err := pgx.CollectRows(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return recs, nil
}

func scanRecord(row pgx.CollectableRow) (inbox.Record, error) {
	var (
		e                     inbox.Event
		seq, ns               int64
		status, origin        string
		headers, verification []byte
		keys, dests           []byte
		body                  []byte
	)
	err := row.Scan(&seq, &e.ID, &e.Source, &e.Provider, &e.Type, &e.InterviewID, &status, &e.QuarantineReason,
		&origin, &ns, &e.RemoteAddr, &e.RequestID, &headers, &e.ContentType, &e.BodySHA256, &e.BodySize,
		&verification, &keys, &dests, &e.PrevHash, &e.Hash, &body)
	if err != nil {
		return inbox.Record{}, err
	}
	e.Seq, e.Status, e.Origin = uint64(seq), inbox.Status(status), inbox.Origin(origin)
	e.ReceivedAt = time.Unix(0, ns).UTC()
	if err := json.Unmarshal(headers, &e.Headers); err != nil {
		return inbox.Record{}, fmt.Errorf("event %s headers: %w", e.ID, err)
	}
	if err := json.Unmarshal(verification, &e.Verification); err != nil {
		return inbox.Record{}, fmt.Errorf("event %s verification: %w", e.ID, err)
	}
	if err := json.Unmarshal(keys, &e.DedupKeys); err != nil {
		return inbox.Record{}, fmt.Errorf("event %s dedup keys: %w", e.ID, err)
	}
	if err := json.Unmarshal(dests, &e.Destinations); err != nil {
		return inbox.Record{}, fmt.Errorf("event %s destinations: %w", e.ID, err)
	}
	return inbox.Record{Event: &e, Body: body}, nil
}

// Pending lists every outbox row, earliest due first.
func (db *DB) Pending(ctx context.Context) ([]inbox.Delivery, error) {
	rows, err := db.pool.Query(ctx, `SELECT event_id, destination, interview_id, seq, attempts, total, due_at, failures
FROM outbox ORDER BY due_at, seq, destination`)
	if err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	ds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (inbox.Delivery, error) {
		var d inbox.Delivery
		var seq int64
		err := row.Scan(&d.EventID, &d.Destination, &d.InterviewID, &seq, &d.Attempts, &d.Total, &d.DueAt, &d.Failures)
		d.Seq = uint64(seq)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	return ds, nil
}
