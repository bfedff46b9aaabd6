package postgres

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"
	"github.com/porchgw/porch/inbox"
)

const (
	insertEvent = `INSERT INTO events (seq, id, source, provider, type, interview_id, status,
  quarantine_reason, origin, received_at, received_ns, remote_addr, request_id, headers,
  content_type, body_sha256, body_size, verification, dedup_keys, destinations, prev_hash, hash, body)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`

	// insertDedup claims a key, or takes over one whose window has
	// passed; it changes no row when the key is still held.
	insertDedup = `INSERT INTO dedup_keys (source, key_hash, key, event_id, expires_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (source, key_hash) DO UPDATE
  SET key = excluded.key, event_id = excluded.event_id, expires_at = excluded.expires_at
  WHERE dedup_keys.expires_at <= $6`

	insertOutbox = `INSERT INTO outbox (event_id, destination, interview_id, seq, due_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`

	insertSighting = `INSERT INTO sightings (event_id, at, remote_addr, request_id, body_sha256, dedup_key)
VALUES ($1, $2, $3, $4, $5, $6)`
)

// stage decides each delivery of reqs, in arrival order, against the
// keys held (which it extends with the batch's own new events), numbers
// the new events from head, and queues their writes.
func (db *DB) stage(reqs []*acceptReq, held map[dedupRef]string, head *chainHead, now time.Time) (*staged, *pgx.Batch, error) {
	st := &staged{results: make([]inbox.Result, len(reqs)), events: make([]*inbox.Event, len(reqs))}
	b := &pgx.Batch{}
	for i, req := range reqs {
		if id, key, ok := firstHeld(held, req.ev); ok {
			st.results[i] = inbox.Result{ID: id, Duplicate: true}
			queueSighting(b, id, req.ev, key, now)
			continue
		}
		ev, err := number(req.ev, head)
		if err != nil {
			return nil, nil, err
		}
		if err := db.queueEvent(b, ev, req.ev.DedupKeys, held, now); err != nil {
			return nil, nil, err
		}
		st.results[i], st.events[i] = inbox.Result{ID: ev.ID}, ev
	}
	return st, b, nil
}

// firstHeld returns the event holding the first of ev's dedup keys that
// is held, as inbox.DB.Accept checks them: most specific first.
func firstHeld(held map[dedupRef]string, ev *inbox.Event) (id, key string, ok bool) {
	for _, k := range ev.DedupKeys {
		if id, ok := held[refOf(ev.Source, k)]; ok {
			return id, k, true
		}
	}
	return "", "", false
}

// number returns the stored form of a new event: prepared as every
// engine prepares it, NUL bytes made storable, and given the next id,
// seq and chain link after head, which it advances.
func number(in *inbox.Event, head *chainHead) (*inbox.Event, error) {
	ev := *in
	inbox.Prepare(&ev)
	scrubNUL(&ev)
	id, err := nextID(head.id, ev.ReceivedAt)
	if err != nil {
		return nil, err
	}
	ev.ID, ev.Seq, ev.PrevHash = id, head.seq+1, head.hash
	ev.Hash = inbox.ChainHash(&ev)
	*head = chainHead{seq: ev.Seq, hash: ev.Hash, id: ev.ID}
	return &ev, nil
}

// nextID returns a ULID for an event received at t that sorts after
// prev, the chain head's id, so that id order is chain order across
// nodes even when their clocks differ a little.
func nextID(prev string, t time.Time) (string, error) {
	ms := ulid.Timestamp(t)
	if prev != "" {
		p, err := ulid.ParseStrict(prev)
		if err != nil {
			return "", fmt.Errorf("chain head id %q: %w", prev, err)
		}
		if ms <= p.Time() {
			return increment(p).String(), nil
		}
	}
	id, err := ulid.New(ms, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("new event id: %w", err)
	}
	return id.String(), nil
}

// increment returns the ULID one above u (its 128 bits as one number).
func increment(u ulid.ULID) ulid.ULID {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]++
		if u[i] != 0 {
			break
		}
	}
	return u
}

// scrubNUL replaces NUL bytes, which text columns refuse, in the
// event's text fields with U+FFFD. Slices are copied, not changed in
// place: they are the caller's.
func scrubNUL(ev *inbox.Event) {
	for _, f := range []*string{&ev.Source, &ev.Provider, &ev.Type, &ev.InterviewID, &ev.QuarantineReason,
		&ev.RemoteAddr, &ev.RequestID, &ev.ContentType, &ev.BodySHA256} {
		*f = noNUL(*f)
	}
	ev.DedupKeys = noNULs(ev.DedupKeys)
	ev.Destinations = noNULs(ev.Destinations)
}

func noNUL(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFD") }

func noNULs(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = noNUL(s)
	}
	return out
}

// queueEvent queues a new event's row, its dedup keys (recorded in held,
// so later deliveries of the batch see them) and, unless quarantined, its
// outbox rows. rawKeys are the dedup keys as the caller gave them:
// keys are matched on their exact bytes.
func (db *DB) queueEvent(b *pgx.Batch, ev *inbox.Event, rawKeys []string, held map[dedupRef]string, now time.Time) error {
	headers, err := json.Marshal(ev.Headers)
	if err != nil {
		return fmt.Errorf("encode headers: %w", err)
	}
	verification, err := json.Marshal(ev.Verification)
	if err != nil {
		return fmt.Errorf("encode verification: %w", err)
	}
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	b.Queue(insertEvent, int64(ev.Seq), ev.ID, ev.Source, ev.Provider, ev.Type, ev.InterviewID, string(ev.Status),
		ev.QuarantineReason, string(ev.Origin), ev.ReceivedAt, ev.ReceivedAt.UnixNano(), ev.RemoteAddr, ev.RequestID,
		string(headers), ev.ContentType, ev.BodySHA256, ev.BodySize, string(verification), ev.DedupKeys,
		ev.Destinations, ev.PrevHash, ev.Hash, body)
	db.queueKeys(b, ev, rawKeys, held, now)
	if ev.Status == inbox.StatusQuarantined {
		return nil
	}
	for _, dest := range ev.Destinations {
		b.Queue(insertOutbox, ev.ID, dest, ev.InterviewID, int64(ev.Seq), now)
	}
	return nil
}

// queueKeys queues ev's dedup keys, each once, held until the window
// passes.
func (db *DB) queueKeys(b *pgx.Batch, ev *inbox.Event, rawKeys []string, held map[dedupRef]string, now time.Time) {
	expires := now.Add(db.opt.DedupWindow)
	for _, k := range rawKeys {
		r := refOf(ev.Source, k) // ev.Source is a configured name: Prepare left it as given
		if held[r] == ev.ID {
			continue // listed twice by the same event
		}
		held[r] = ev.ID
		b.Queue(insertDedup, r.source, r.hash[:], noNUL(inbox.BoundKey(k)), ev.ID, expires, now)
	}
}

// queueSighting records a duplicate delivery of event id.
func queueSighting(b *pgx.Batch, id string, dup *inbox.Event, key string, now time.Time) {
	b.Queue(insertSighting, id, now, noNUL(dup.RemoteAddr), noNUL(dup.RequestID), noNUL(dup.BodySHA256), noNUL(inbox.BoundKey(key)))
}
