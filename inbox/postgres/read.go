package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// readTimeout bounds one read that has no context of its own, so a
// database that stops answering fails the read instead of hanging it.
const readTimeout = time.Minute

func readCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), readTimeout)
}

// eventCols are an event's columns but its body, in eventRow's order.
const eventCols = `seq, id, source, provider, COALESCE(type_full, type), interview_id, status, quarantine_reason,
  origin, received_ns, remote_addr, request_id, headers, content_type, body_sha256, body_size,
  verification, dedup_keys, destinations, prev_hash, hash, COALESCE(duplicate_of, '')`

// eventRow receives eventCols.
type eventRow struct {
	e                     inbox.Event
	seq, ns               int64
	status, origin        string
	headers, verification []byte
	keys, dests           []byte
}

func (r *eventRow) dest() []any {
	e := &r.e
	return []any{&r.seq, &e.ID, &e.Source, &e.Provider, &e.Type, &e.InterviewID, &r.status, &e.QuarantineReason,
		&r.origin, &r.ns, &e.RemoteAddr, &e.RequestID, &r.headers, &e.ContentType, &e.BodySHA256, &e.BodySize,
		&r.verification, &r.keys, &r.dests, &e.PrevHash, &e.Hash, &e.DuplicateOf}
}

// event decodes the row. Empty lists and maps read back as nil, as the
// Badger engine's JSON (omitempty) gives them.
func (r *eventRow) event() (*inbox.Event, error) {
	e := r.e
	e.Seq, e.Status, e.Origin = uint64(r.seq), inbox.Status(r.status), inbox.Origin(r.origin)
	e.ReceivedAt = time.Unix(0, r.ns).UTC()
	for _, f := range []struct {
		name string
		b    []byte
		v    any
	}{{"headers", r.headers, &e.Headers}, {"verification", r.verification, &e.Verification},
		{"dedup keys", r.keys, &e.DedupKeys}, {"destinations", r.dests, &e.Destinations}} {
		if err := json.Unmarshal(f.b, f.v); err != nil {
			return nil, fmt.Errorf("event %s %s: %w", e.ID, f.name, err)
		}
	}
	if len(e.Headers) == 0 {
		e.Headers = nil
	}
	if len(e.DedupKeys) == 0 {
		e.DedupKeys = nil
	}
	if len(e.Destinations) == 0 {
		e.Destinations = nil
	}
	return &e, nil
}

func scanEvent(row pgx.CollectableRow) (inbox.Event, error) {
	var r eventRow
	if err := row.Scan(r.dest()...); err != nil {
		return inbox.Event{}, err
	}
	e, err := r.event()
	if err != nil {
		return inbox.Event{}, err
	}
	return *e, nil
}

// scanRecord reads eventCols followed by the body.
func scanRecord(row pgx.CollectableRow) (inbox.Record, error) {
	var r eventRow
	var body []byte
	if err := row.Scan(append(r.dest(), &body)...); err != nil {
		return inbox.Record{}, err
	}
	e, err := r.event()
	if err != nil {
		return inbox.Record{}, err
	}
	if body == nil {
		body = []byte{}
	}
	return inbox.Record{Event: e, Body: body}, nil
}

// storable reports whether s can be a text parameter: a string that is
// not valid UTF-8 or holds a NUL byte names nothing stored.
func storable(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

// Event returns the archived metadata of event id, without its body, or
// an error wrapping inbox.ErrNotFound.
func (db *DB) Event(id string) (*inbox.Event, error) {
	if !storable(id) {
		return nil, fmt.Errorf("event %s: %w", id, inbox.ErrNotFound)
	}
	ctx, cancel := readCtx()
	defer cancel()
	rows, _ := db.pool.Query(ctx, `SELECT `+eventCols+` FROM events WHERE id = $1`, id)
	e, err := pgx.CollectExactlyOneRow(rows, scanEvent)
	if errors.Is(err, pgx.ErrNoRows) {
		err = inbox.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	return &e, nil
}

// Body returns the exact bytes received for event id, or an error
// wrapping inbox.ErrNotFound.
func (db *DB) Body(id string) ([]byte, error) {
	if !storable(id) {
		return nil, fmt.Errorf("body %s: %w", id, inbox.ErrNotFound)
	}
	ctx, cancel := readCtx()
	defer cancel()
	var b []byte
	err := db.pool.QueryRow(ctx, `SELECT body FROM events WHERE id = $1`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		err = inbox.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("body %s: %w", id, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// Sightings returns the duplicate deliveries recorded against event id,
// the last inbox.MaxRecentSightings of them listed oldest first; the
// zero value when there were none.
func (db *DB) Sightings(id string) (inbox.Sightings, error) {
	var s inbox.Sightings
	if !storable(id) {
		return s, nil
	}
	ctx, cancel := readCtx()
	defer cancel()
	var first, last *time.Time
	err := db.pool.QueryRow(ctx, `SELECT count(*), min(at), max(at) FROM sightings WHERE event_id = $1`, id).
		Scan(&s.Count, &first, &last)
	if err != nil {
		return s, fmt.Errorf("sightings %s: %w", id, err)
	}
	if s.Count == 0 {
		return s, nil
	}
	s.First, s.Last = first.UTC(), last.UTC()
	rows, _ := db.pool.Query(ctx, `SELECT at, remote_addr, request_id, body_sha256, dedup_key FROM (
  SELECT * FROM sightings WHERE event_id = $1 ORDER BY id DESC LIMIT $2) AS r ORDER BY id`, id, inbox.MaxRecentSightings)
	s.Recent, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (inbox.Sighting, error) {
		var x inbox.Sighting
		err := row.Scan(&x.At, &x.RemoteAddr, &x.RequestID, &x.BodySHA256, &x.DedupKey)
		x.At = x.At.UTC()
		return x, err
	})
	if err != nil {
		return inbox.Sightings{}, fmt.Errorf("sightings %s: %w", id, err)
	}
	return s, nil
}

// LookupDedup returns the id of the event holding dedup key key of
// source, or inbox.ErrNotFound when the key is not in the window.
func (db *DB) LookupDedup(source, key string) (string, error) {
	if !storable(source) {
		return "", inbox.ErrNotFound
	}
	ctx, cancel := readCtx()
	defer cancel()
	r := refOf(source, key)
	var id string
	err := db.pool.QueryRow(ctx, `SELECT event_id FROM dedup_keys WHERE source = $1 AND key_hash = $2 AND expires_at > $3`,
		r.source, r.hash[:], db.opt.Now()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", inbox.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("lookup dedup key: %w", err)
	}
	return id, nil
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
