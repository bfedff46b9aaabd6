package badger

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// recentBytes bounds the events kept in memory after they are accepted,
// bodies included.
const recentBytes = 4 << 20

// recentEvents keeps the events accepted most recently, oldest dropped
// first, so the forwarder, which sends most events within milliseconds of
// their commit, need not read them back from the store (a read decodes
// the record and may wait on the disk): without it forwarding falls
// behind ingest under load. Entries are filled only after their commit
// and are never changed, so a hit holds what the store holds.
type recentEvents struct {
	mu      sync.Mutex
	byID    map[string]*inbox.Event
	order   []string // oldest first; order[head:] are kept or dropped
	head    int
	dropped int // ids in order[head:] that drop removed
	bytes   int
}

// eventCost is what one kept event counts against recentBytes: its body
// and roughly its record.
func eventCost(ev *inbox.Event) int { return len(ev.Body) + 1024 }

// add keeps a copy of ev, body included, dropping the oldest to stay
// within recentBytes. The copy holds what the store holds: its own maps
// and slices, and its strings coerced to valid UTF-8 as the record's JSON
// coerces them (a header can carry any byte).
func (r *recentEvents) add(ev *inbox.Event) {
	if eventCost(ev) > recentBytes/4 {
		return // a large body is read back from the store when needed
	}
	c := *ev
	c.Body = append([]byte(nil), ev.Body...)
	c.Headers = make(map[string][]string, len(ev.Headers))
	for k, vs := range ev.Headers {
		vs = slices.Clone(vs)
		for i := range vs {
			vs[i] = jsonString(vs[i])
		}
		c.Headers[jsonString(k)] = vs
	}
	if len(c.Headers) == 0 {
		c.Headers = nil // omitted from the record when empty
	}
	for _, f := range []*string{&c.Source, &c.Provider, &c.Type, &c.InterviewID, &c.RemoteAddr, &c.RequestID, &c.ContentType, &c.Verification.Timestamp} {
		*f = jsonString(*f)
	}
	c.DedupKeys = jsonStrings(ev.DedupKeys)
	c.Destinations = jsonStrings(ev.Destinations)
	cost := eventCost(&c)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string]*inbox.Event{}
	}
	r.byID[c.ID] = &c
	r.order = append(r.order, c.ID)
	r.bytes += cost
	for r.bytes > recentBytes && r.head < len(r.order) {
		id := r.order[r.head]
		r.order[r.head] = ""
		r.head++
		if old, ok := r.byID[id]; ok {
			r.bytes -= eventCost(old)
			delete(r.byID, id)
		} else {
			r.dropped--
		}
	}
	if r.dropped > len(r.byID) {
		// Retention removed more than is kept (a quiet gateway with a
		// short retention): rebuild order from the kept ids alone.
		live := r.order[:0]
		for _, id := range r.order[r.head:] {
			if _, ok := r.byID[id]; ok {
				live = append(live, id)
			}
		}
		clear(r.order[len(live):])
		r.order, r.head, r.dropped = live, 0, 0
	}
	if r.head > len(r.order)/2 {
		r.order = append(r.order[:0], r.order[r.head:]...)
		r.head = 0
	}
}

// jsonString is s as it reads back from JSON: each byte that is not part
// of valid UTF-8 becomes U+FFFD.
func jsonString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// jsonStrings is a copy of list with each string as jsonString reads it.
func jsonStrings(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = jsonString(s)
	}
	return out
}

// get returns a copy of the kept event id; the copy shares the body and
// the slices and maps of the kept one, which nobody may modify.
func (r *recentEvents) get(id string) (*inbox.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev, ok := r.byID[id]
	if !ok {
		return nil, false
	}
	c := *ev
	return &c, true
}

// drop forgets id (retention removed it). Its place in order is left for
// add to skip, or to rebuild once such places outnumber the kept ids.
func (r *recentEvents) drop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev, ok := r.byID[id]; ok {
		r.bytes -= eventCost(ev)
		delete(r.byID, id)
		r.dropped++
	}
}

// EventWithBody returns event id with its Body filled, or ErrNotFound.
// Events accepted moments ago come from memory; the caller must not
// modify the event, its body or its maps and slices.
func (db *DB) EventWithBody(id string) (*inbox.Event, error) {
	if ev, ok := db.recent.get(id); ok {
		return ev, nil
	}
	var e inbox.Event
	err := db.bdb.View(func(txn *badger.Txn) error {
		var err error
		e.Body, err = getEvent(txn, id, &e, true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	return &e, nil
}
