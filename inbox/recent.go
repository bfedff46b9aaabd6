package inbox

import (
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// recentBytes bounds the events kept in memory after they are accepted,
// bodies included.
const recentBytes = 4 << 20

// recentEvents keeps the events accepted most recently, oldest dropped
// first, so the forwarder, which sends most events within milliseconds of
// their commit, need not read them back from the store: a read decodes
// the record and, once the value log's pages are paged out
// (mapped_linux.go), may wait on the disk. Entries are filled only after
// their commit and are never changed, so a hit holds what the store
// holds.
type recentEvents struct {
	mu    sync.Mutex
	byID  map[string]*Event
	order []string // oldest first; order[head:] are live
	head  int
	bytes int
}

// eventCost is what one kept event counts against recentBytes: its body
// and roughly its record.
func eventCost(ev *Event) int { return len(ev.Body) + 1024 }

// add keeps a copy of ev, body included, dropping the oldest to stay
// within recentBytes.
func (r *recentEvents) add(ev *Event) {
	c := *ev
	c.Body = append([]byte(nil), ev.Body...)
	cost := eventCost(&c)
	if cost > recentBytes/4 {
		return // a large body is read back from the store when needed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string]*Event{}
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
		}
	}
	if r.head > len(r.order)/2 {
		r.order = append(r.order[:0], r.order[r.head:]...)
		r.head = 0
	}
}

// get returns a copy of the kept event id; the copy shares the body and
// the slices and maps of the record, which nobody may modify.
func (r *recentEvents) get(id string) (*Event, bool) {
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
// add to skip.
func (r *recentEvents) drop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev, ok := r.byID[id]; ok {
		r.bytes -= eventCost(ev)
		delete(r.byID, id)
	}
}

// EventWithBody returns event id with its Body filled, or ErrNotFound.
// Events accepted moments ago come from memory; the caller must not
// modify the event, its body or its maps and slices.
func (db *DB) EventWithBody(id string) (*Event, error) {
	if ev, ok := db.recent.get(id); ok {
		return ev, nil
	}
	var e Event
	err := db.bdb.View(func(txn *badger.Txn) error {
		if err := getJSON(txn, eventKey(id), &e); err != nil {
			return err
		}
		item, err := txn.Get(bodyKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		e.Body, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	return &e, nil
}
