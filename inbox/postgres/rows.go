package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/porchgw/porch/inbox"
)

// A batch's rows are gathered column by column and written with one
// multi-row INSERT ... SELECT FROM unnest(...) per table. One statement
// per table rather than one per row cuts the server's work per delivery:
// at 32 writers (BenchmarkAccept32, two cores, PostgreSQL 15 on the same
// machine) accepts went from about 1,300 to about 2,400 a second.
const (
	insertEvents = `INSERT INTO events (seq, id, source, provider, type, interview_id, status,
  quarantine_reason, origin, received_at, received_ns, remote_addr, request_id, headers,
  content_type, body_sha256, body_size, verification, dedup_keys, destinations, prev_hash, hash, body, interview_fold,
  type_full)
SELECT seq, id, source, provider, type, interview_id, status, quarantine_reason, origin, received_at, received_ns,
  remote_addr, request_id, headers, content_type, body_sha256, body_size, verification, dedup_keys, destinations,
  prev_hash, hash, body, interview_fold, NULLIF(type_full, '')
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
  $8::text[], $9::text[], $10::timestamptz[], $11::bigint[], $12::text[], $13::text[], $14::json[],
  $15::text[], $16::text[], $17::integer[], $18::json[], $19::json[], $20::json[], $21::text[], $22::text[], $23::bytea[], $24::text[],
  $25::text[])
  AS u (seq, id, source, provider, type, interview_id, status, quarantine_reason, origin, received_at, received_ns,
  remote_addr, request_id, headers, content_type, body_sha256, body_size, verification, dedup_keys, destinations,
  prev_hash, hash, body, interview_fold, type_full)`

	// dropExpired deletes stored keys whose window has passed, so that
	// insertDedup may claim them again.
	dropExpired = `DELETE FROM dedup_keys
WHERE (source, key_hash) IN (SELECT * FROM unnest($1::text[], $2::bytea[])) AND expires_at <= $3`

	// insertDedup claims keys. A key still held, by an event the batch's
	// lookup did not see, fails it on the primary key: see keyHeld.
	insertDedup = `INSERT INTO dedup_keys (source, key_hash, key, event_id, expires_at)
SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::timestamptz[])`

	// insertOutbox is a plain insert: each row is a new event's, and
	// addEvent lists each destination once.
	insertOutbox = `INSERT INTO outbox (event_id, destination, interview_id, seq, due_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[])`

	insertSightings = `INSERT INTO sightings (event_id, at, remote_addr, request_id, body_sha256, dedup_key)
SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[])`

	// insertSightingsChecked is insertSightings for a batch staged
	// without a lookup: each row's key comes from the dedup key row that
	// makes it a duplicate, which must hold the key for the row's event
	// in the window (the batch's own new keys are visible to it). Where
	// none does the key is NULL and the NOT NULL constraint fails the
	// batch: see staleHint.
	insertSightingsChecked = `INSERT INTO sightings (event_id, at, remote_addr, request_id, body_sha256, dedup_key)
SELECT s.event_id, s.at, s.remote_addr, s.request_id, s.body_sha256, d.key
FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[])
  AS s (event_id, at, remote_addr, request_id, body_sha256, source, key_hash)
LEFT JOIN LATERAL (
  SELECT key FROM dedup_keys WHERE source = s.source AND key_hash = s.key_hash
  AND event_id = s.event_id AND expires_at > $8 OFFSET 0) AS d ON true`
)

// texts is a text[] parameter that pgx encodes without an allocation per
// element: it hands pgx each element as a text, which fits an interface
// as it is, where a []string has every string boxed. Each connection
// names its type (newPool), for the exec modes that do not ask.
type texts []string

func (a texts) Dimensions() []pgtype.ArrayDimension {
	if a == nil {
		return nil
	}
	return []pgtype.ArrayDimension{{Length: int32(len(a)), LowerBound: 1}}
}

func (a texts) Index(i int) any { return text{&a[i]} }

func (a texts) IndexType() any { return text{new(string)} }

// text is one element of texts.
type text struct{ s *string }

func (t text) TextValue() (pgtype.Text, error) { return pgtype.Text{String: *t.s, Valid: true}, nil }

// rows are a batch's writes, column by column.
type rows struct {
	now time.Time

	seq, receivedNs                                   []int64
	id, source, provider, typ, interview, status      texts
	reason, origin, remote, request, contentType, sha texts
	prev, hash                                        texts
	headers, verification, keys, dests                []string // json[]
	receivedAt                                        []time.Time
	size                                              []int32
	body                                              [][]byte
	fold, typeFull                                    texts
	dupID, dupOf                                      texts // duplicate copies: their id and duplicate_of

	dkSource, dkKey, dkEvent texts
	dkHash                   [][]byte
	dkExpires                []time.Time

	obEvent, obDest, obInterview texts
	obSeq                        []int64
	obDue                        []time.Time

	siEvent, siRemote, siRequest, siSHA, siKey texts
	siAt                                       []time.Time
	siSource                                   texts // the held key, for insertSightingsChecked
	siHash                                     [][]byte

	checked bool // staged without a lookup: sightings are checked as they are written
}

// addEvent adds a new event's row.
func (r *rows) addEvent(ev *inbox.Event) error {
	js := make([]string, 4)
	for i, v := range []any{ev.Headers, ev.Verification, ev.DedupKeys, ev.Destinations} {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", ev.ID, err)
		}
		js[i] = string(b)
	}
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	r.seq, r.id, r.source = append(r.seq, int64(ev.Seq)), append(r.id, ev.ID), append(r.source, ev.Source)
	r.provider = append(r.provider, ev.Provider)
	r.interview, r.status = append(r.interview, ev.InterviewID), append(r.status, string(ev.Status))
	r.reason, r.origin = append(r.reason, ev.QuarantineReason), append(r.origin, string(ev.Origin))
	r.receivedAt, r.receivedNs = append(r.receivedAt, ev.ReceivedAt), append(r.receivedNs, ev.ReceivedAt.UnixNano())
	r.remote, r.request = append(r.remote, ev.RemoteAddr), append(r.request, ev.RequestID)
	r.headers, r.contentType = append(r.headers, js[0]), append(r.contentType, ev.ContentType)
	r.sha, r.size = append(r.sha, ev.BodySHA256), append(r.size, int32(ev.BodySize))
	r.verification, r.keys, r.dests = append(r.verification, js[1]), append(r.keys, js[2]), append(r.dests, js[3])
	r.prev, r.hash, r.body = append(r.prev, ev.PrevHash), append(r.hash, ev.Hash), append(r.body, body)
	r.fold = append(r.fold, inbox.FoldInterview(ev.InterviewID))
	typ, full := indexedType(ev.Type)
	r.typ, r.typeFull = append(r.typ, typ), append(r.typeFull, full) // "" is stored as NULL
	if ev.DuplicateOf != "" {
		r.dupID, r.dupOf = append(r.dupID, ev.ID), append(r.dupOf, ev.DuplicateOf)
	}
	return nil
}

// maxIndexedType is the longest event type stored as it is in
// events.type, which events_source_type indexes: a btree entry holds at
// most about 2,700 bytes. A longer type comes only from an event
// inbox.Prepare quarantined (over inbox.MaxKeyPart bytes; replacing NULs
// at most triples that).
const maxIndexedType = 2048

// indexedType returns what events.type and events.type_full hold for
// an event of type t: t and "" (stored as NULL), or for a type longer
// than maxIndexedType "%#" and its SHA-256 in hex, and t itself.
func indexedType(t string) (typ, full string) {
	if len(t) <= maxIndexedType {
		return t, ""
	}
	sum := sha256.Sum256([]byte(t))
	return "%#" + hex.EncodeToString(sum[:]), t
}

func (r *rows) addKey(ref dedupRef, key, id string, expires time.Time) {
	r.dkSource, r.dkHash, r.dkKey = append(r.dkSource, ref.source), append(r.dkHash, ref.hash[:]), append(r.dkKey, key)
	r.dkEvent, r.dkExpires = append(r.dkEvent, id), append(r.dkExpires, expires)
}

func (r *rows) addOutbox(ev *inbox.Event, dest string) {
	r.obEvent, r.obDest, r.obInterview = append(r.obEvent, ev.ID), append(r.obDest, dest), append(r.obInterview, ev.InterviewID)
	r.obSeq, r.obDue = append(r.obSeq, int64(ev.Seq)), append(r.obDue, r.now)
}

func (r *rows) addSighting(id string, dup *inbox.Event, key string) {
	r.siEvent, r.siAt, r.siKey = append(r.siEvent, id), append(r.siAt, r.now), append(r.siKey, shownKey(key))
	r.siRemote, r.siRequest = append(r.siRemote, asStored(dup.RemoteAddr)), append(r.siRequest, asStored(dup.RequestID))
	r.siSHA = append(r.siSHA, asStored(dup.BodySHA256))
	ref := refOf(dup.Source, key)
	r.siSource, r.siHash = append(r.siSource, ref.source), append(r.siHash, ref.hash[:])
}

// batch queues the inserts that have rows, in one pipeline, after the
// deletion of the expired keys the batch's lookup found.
func (r *rows) batch(expired []dedupRef) *pgx.Batch {
	b := &pgx.Batch{}
	if len(expired) > 0 {
		sources, hashes := make([]string, len(expired)), make([][]byte, len(expired))
		for i, ref := range expired {
			sources[i], hashes[i] = ref.source, ref.hash[:]
		}
		b.Queue(dropExpired, sources, hashes, r.now)
	}
	if len(r.id) > 0 {
		b.Queue(insertEvents, r.seq, r.id, r.source, r.provider, r.typ, r.interview, r.status, r.reason, r.origin,
			r.receivedAt, r.receivedNs, r.remote, r.request, r.headers, r.contentType, r.sha, r.size,
			r.verification, r.keys, r.dests, r.prev, r.hash, r.body, r.fold, r.typeFull)
	}
	if len(r.dupID) > 0 {
		// Rare, so set apart from insertEvents, which every batch runs.
		b.Queue(`UPDATE events SET duplicate_of = u.of FROM unnest($1::text[], $2::text[]) AS u (id, of) WHERE events.id = u.id`,
			r.dupID, r.dupOf)
	}
	if len(r.dkKey) > 0 {
		b.Queue(insertDedup, r.dkSource, r.dkHash, r.dkKey, r.dkEvent, r.dkExpires)
	}
	if len(r.obEvent) > 0 {
		b.Queue(insertOutbox, r.obEvent, r.obDest, r.obInterview, r.obSeq, r.obDue)
	}
	switch {
	case len(r.siEvent) > 0 && r.checked:
		b.Queue(insertSightingsChecked, r.siEvent, r.siAt, r.siRemote, r.siRequest, r.siSHA, r.siSource, r.siHash, r.now)
	case len(r.siEvent) > 0:
		b.Queue(insertSightings, r.siEvent, r.siAt, r.siRemote, r.siRequest, r.siSHA, r.siKey)
	}
	return b
}

// send sends b in one pipeline and reads every result.
func send(ctx context.Context, conn *pgx.Conn, b *pgx.Batch) error {
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	for _, qq := range b.QueuedQueries {
		if _, err := br.Exec(); err != nil {
			if keyHeld(err) {
				return errKeyHeld
			}
			if headMoved(err) {
				return errHeadMoved
			}
			if staleHint(err) {
				return errStaleHint
			}
			if qq.SQL == `COMMIT` {
				return fmt.Errorf("commit: %w", err)
			}
			return fmt.Errorf("write batch: %w", err)
		}
	}
	return br.Close()
}

// keyHeld reports whether err is insertDedup meeting a key held in the
// window by an event the batch's lookup did not see.
func keyHeld(err error) bool { return pgErrorOn(err, "23505", "dedup_keys") }

// headMoved reports whether err is advanceHead finding the chain head
// moved.
func headMoved(err error) bool { return pgErrorOn(err, "23514", "chain_head") }

// staleHint reports whether err is insertSightingsChecked finding a
// delivery staged as a duplicate whose key the database does not hold
// for that event.
func staleHint(err error) bool { return pgErrorOn(err, "23502", "sightings") }

// pgErrorOn reports whether err is the server's error code on table.
func pgErrorOn(err error, code, table string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code && pe.TableName == table
}
