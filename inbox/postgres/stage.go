package postgres

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/porchgw/porch/inbox"
)

// stage decides each delivery of reqs, in arrival order, against the
// keys held (which it extends with the batch's own new events), numbers
// the new events from head, and gathers their rows.
//
// With partial set, held is not every key the database holds but what
// this node knows (see tryFast), so a delivery is a duplicate only by
// its first key: a later key's holder is its answer only if no earlier
// key is held, which the node cannot tell. Any other delivery is staged
// as new, and a key of it that is held fails the batch.
func (db *DB) stage(reqs []*acceptReq, held map[dedupRef]string, head *chainHead, now time.Time, partial bool) (*staged, *rows, error) {
	st := &staged{results: make([]inbox.Result, len(reqs)), events: make([]*inbox.Event, len(reqs))}
	r := &rows{now: now, checked: partial}
	for i, req := range reqs {
		keys := req.ev.DedupKeys
		if partial && len(keys) > 1 {
			keys = keys[:1]
		}
		if id, key, ok := firstHeld(held, req.ev.Source, keys); ok {
			st.results[i] = inbox.Result{ID: id, Duplicate: true}
			r.addSighting(id, req.ev, key)
			// Staged without a lookup, held lacks keys the database may
			// hold: a copy whose body key is stored fails the batch on
			// the key's insert (errKeyHeld) and the locked path decides.
			cp, _ := inbox.DuplicateCopy(req.ev, key, id, func(bk string) (bool, error) {
				_, ok := held[refOf(req.ev.Source, bk)]
				return ok, nil
			})
			if cp != nil {
				ev, err := number(cp, head)
				if err != nil {
					return nil, nil, err
				}
				if err := db.addEvent(r, ev, cp.DedupKeys, held); err != nil {
					return nil, nil, err
				}
			}
			continue
		}
		ev, err := number(req.ev, head)
		if err != nil {
			return nil, nil, err
		}
		if err := db.addEvent(r, ev, req.ev.DedupKeys, held); err != nil {
			return nil, nil, err
		}
		st.results[i], st.events[i] = inbox.Result{ID: ev.ID}, ev
	}
	return st, r, nil
}

// firstHeld returns the event holding the first of a delivery's dedup
// keys (of source) that is held, as inbox.DB.Accept checks them: most
// specific first.
func firstHeld(held map[dedupRef]string, source string, keys []string) (id, key string, ok bool) {
	for _, k := range keys {
		if id, ok := held[refOf(source, k)]; ok {
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

// scrubNUL makes the event's text fields storable in text columns,
// which refuse NUL bytes and invalid UTF-8 (asStored). Slices are
// copied, not changed in place: they are the caller's.
func scrubNUL(ev *inbox.Event) {
	for _, f := range []*string{&ev.Source, &ev.Provider, &ev.Type, &ev.InterviewID, &ev.QuarantineReason,
		&ev.RemoteAddr, &ev.RequestID, &ev.ContentType, &ev.BodySHA256} {
		*f = asStored(*f)
	}
	ev.DedupKeys = noNULs(ev.DedupKeys)
	ev.Destinations = noNULs(ev.Destinations)
}

// shownKey is a dedup key as its row shows it: bounded as the archive
// records it, and storable in a text column. Rows are matched by the
// hash of the key's exact bytes, never by this.
func shownKey(k string) string { return asStored(inbox.BoundKey(k)) }

func noNUL(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFD") }

func noNULs(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = noNUL(s)
	}
	return out
}

// addEvent adds a new event's row, its dedup keys (recorded in held, so
// later deliveries of the batch see them) and, unless quarantined, its
// outbox rows. rawKeys are the dedup keys as the caller gave them: keys
// are matched on their exact bytes.
func (db *DB) addEvent(r *rows, ev *inbox.Event, rawKeys []string, held map[dedupRef]string) error {
	if err := r.addEvent(ev); err != nil {
		return err
	}
	expires := inbox.DedupExpiry(ev, r.now, db.opt.DedupWindow)
	holder := ev.ID
	if ev.DuplicateOf != "" {
		holder = ev.DuplicateOf // a duplicate's copy claims its bytes for the event it duplicates
	}
	for _, k := range rawKeys {
		ref := refOf(ev.Source, k) // ev.Source is a configured name: Prepare left it as given
		if held[ref] == holder {
			continue // listed twice by the same event
		}
		held[ref] = holder
		r.addKey(ref, shownKey(k), holder, expires)
	}
	if ev.Status == inbox.StatusQuarantined {
		return nil
	}
	seen := make(map[string]bool, len(ev.Destinations))
	for _, dest := range ev.Destinations {
		if !seen[dest] {
			seen[dest] = true
			r.addOutbox(ev, dest)
		}
	}
	return nil
}
