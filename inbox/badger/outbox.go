package badger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// Outbox keys. An entry stays under o/ until it is delivered or
// dead-lettered; a retry replaces it with a later o/ key in the same
// transaction, so the schedule survives restarts.
const (
	pfxOutbox   = "o/"  // o/<due unix nanos, 8 bytes BE>/<id>/<destination> → Delivery (JSON)
	pfxDelivery = "dl/" // dl/<id>/<destination> → DeliveryState (JSON)
	// pfxOrder holds one key per queued delivery of an event with an
	// interview id: the lowest seq under oq/<dest>/<interview>/ is the
	// only one of that interview that may be sent to dest.
	pfxOrder = "oq/" // oq/<destination>/<interview id>/<seq 8 bytes BE> → event id
)

func outboxKey(due time.Time, id, dest string) []byte {
	k := append([]byte(pfxOutbox), timeBytes(due)...)
	return append(k, "/"+id+"/"+dest...)
}

func deliveryKey(id, dest string) []byte { return []byte(pfxDelivery + id + "/" + dest) }

// orderPrefix is oq/<destination>/<interview>/. The interview id is
// bounded (inbox.BoundKey), not escaped, so keys already stored keep their
// form; isHead reads only keys exactly one 8-byte seq longer than the
// prefix, so the keys of interview "a/b" never pass for those of "a".
func orderPrefix(dest, interview string) string {
	return pfxOrder + dest + "/" + inbox.BoundKey(interview) + "/"
}

func orderKey(d *inbox.Delivery) []byte {
	return seqKey(orderPrefix(d.Destination, d.InterviewID), d.Seq)
}

// enqueue stages one outbox entry per destination of ev, due now. A
// quarantined event is never queued.
func enqueue(txn *badger.Txn, ev *inbox.Event, now time.Time) error {
	if ev.Status == inbox.StatusQuarantined {
		return nil
	}
	for _, dest := range ev.Destinations {
		d := inbox.Delivery{EventID: ev.ID, Destination: dest, InterviewID: ev.InterviewID, Seq: ev.Seq, DueAt: now}
		if err := queue(txn, &d, now); err != nil {
			return fmt.Errorf("enqueue %s: %w", dest, err)
		}
	}
	return nil
}

// queue stages d in the outbox, its order index and its pending state.
func queue(txn *badger.Txn, d *inbox.Delivery, now time.Time) error {
	if err := putJSON(txn, outboxKey(d.DueAt, d.EventID, d.Destination), d); err != nil {
		return err
	}
	if d.InterviewID != "" {
		if err := txn.Set(orderKey(d), []byte(d.EventID)); err != nil {
			return fmt.Errorf("store order: %w", err)
		}
	}
	st := inbox.DeliveryState{Destination: d.Destination, Status: inbox.DeliveryPending, Attempts: d.Total, NextAt: d.DueAt, UpdatedAt: now}
	return putJSON(txn, deliveryKey(d.EventID, d.Destination), st)
}

// Deliveries returns the forwarding state of event id per destination.
func (db *DB) Deliveries(id string) ([]inbox.DeliveryState, error) {
	var out []inbox.DeliveryState
	err := db.bdb.View(func(txn *badger.Txn) error {
		return scanJSON(txn, pfxDelivery+id+"/", func(d *inbox.DeliveryState) error {
			out = append(out, *d)
			return nil
		})
	})
	return out, err
}

// Claim returns the deliveries due at now that may start, earliest due
// first, and claims them until they are settled or released or until
// lease has passed after now: for each destination in want at most
// want[destination], each unclaimed and the head of its interview for
// its destination. next is the earliest time an entry left out for its
// due time or for a lapsing claim may be returned, zero when none is
// known; entries left out for want or for their interview's order are
// not counted (they wait on the caller's own attempts to settle).
func (db *DB) Claim(now time.Time, want map[string]int, lease time.Duration) (due []inbox.Delivery, next time.Time, err error) {
	left := 0
	for _, n := range want {
		left += max(n, 0)
	}
	if left == 0 {
		return nil, time.Time{}, nil // a scan that reads nothing must not move the floor
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	taken := map[string]int{}
	from := db.floor.start()
	var first time.Time
	seen := false
	err = db.bdb.View(func(txn *badger.Txn) error {
		// Keys first: most entries of a busy outbox are left out (their
		// destination has no room, or they are claimed), so values are
		// read only for the ones that may go.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxOutbox)})
		defer it.Close()
		order := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxOrder)})
		defer order.Close()
		heads := map[string]uint64{} // order prefix → its head seq, as read in this scan
		for it.Seek(outboxKey(from, "", "")[:len(pfxOutbox)+8]); it.Valid() && len(due) < left; it.Next() {
			k := it.Item().Key()
			at, id, dest, ok := parseOutboxKey(k)
			if !ok {
				continue
			}
			if !seen {
				first, seen = at, true
			}
			if at.After(now) {
				next = earliest(next, at)
				return nil
			}
			if taken[dest] >= want[dest] {
				continue
			}
			if until, ok := db.claims.held(claimKey(id, dest), now); ok {
				next = earliest(next, until)
				continue
			}
			var d inbox.Delivery
			if err := it.Item().Value(func(b []byte) error { return jsonUnmarshal(b, &d) }); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			if isHead(order, &d, heads) {
				due = append(due, d)
				taken[dest]++
			}
		}
		return nil
	})
	if err != nil {
		db.floor.abort()
		return nil, time.Time{}, err
	}
	db.floor.finish(first, seen)
	db.claims.forget(now)
	for i := range due {
		db.claims.take(&due[i], now.Add(lease))
	}
	return due, next, nil
}

// earliest is the earlier of a and b, where zero means none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// isHead reports whether d is the earliest queued delivery of its
// interview for its destination (always true without an interview id).
//
// order is one key-only iterator over oq/, shared by the whole scan:
// seeking it is far cheaper than opening an iterator per interview.
func isHead(order *badger.Iterator, d *inbox.Delivery, heads map[string]uint64) bool {
	if d.InterviewID == "" {
		return true
	}
	p := orderPrefix(d.Destination, d.InterviewID)
	head, ok := heads[p]
	if !ok {
		order.Seek([]byte(p))
		head = d.Seq // index missing: do not block forever
		if order.ValidForPrefix([]byte(p)) {
			if k := order.Item().Key(); len(k) == len(p)+8 {
				head = binary.BigEndian.Uint64(k[len(p):])
			}
		}
		heads[p] = head
	}
	return head == d.Seq
}

// parseOutboxKey splits o/<due>/<id>/<dest>.
func parseOutboxKey(k []byte) (due time.Time, id, dest string, ok bool) {
	if len(k) < len(pfxOutbox)+8+2 {
		return time.Time{}, "", "", false
	}
	n := binary.BigEndian.Uint64(k[len(pfxOutbox):])
	rest := string(k[len(pfxOutbox)+9:])
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			return time.Unix(0, int64(n)), rest[:i], rest[i+1:], true
		}
	}
	return time.Time{}, "", "", false
}

// takeOutbox deletes d's outbox entry, failing with ErrNotFound when it
// is no longer there (settled by someone else, or replaced). That
// failure leaves txn untouched (see untouched), so a settle batch can
// carry on without it.
func takeOutbox(txn *badger.Txn, d *inbox.Delivery) error {
	k := outboxKey(d.DueAt, d.EventID, d.Destination)
	if _, err := txn.Get(k); errors.Is(err, badger.ErrKeyNotFound) {
		return untouched{fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, inbox.ErrNotFound)}
	} else if err != nil {
		return fmt.Errorf("outbox %s/%s: %w", d.EventID, d.Destination, err)
	}
	return txn.Delete(k)
}
