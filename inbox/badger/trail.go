package badger

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// The access trail. Every entry is at t/<seq>, so it reads as one list,
// newest first. Each entry is also indexed under its class, so that each
// class is bounded on its own: searches, which an auditor can make by the
// thousand, push out only older searches, never the record of an export.
//
//	t/<seq, 8 bytes BE>   Access (JSON)
//	tq/<seq>              empty: the entry is of class search
//	tk/<seq>              empty: the entry is of class sensitive
const (
	pfxTrail       = "t/"
	pfxTrailSearch = "tq/"
	pfxTrailKept   = "tk/"
)

// trailWarnEvery is how often at most the store warns that a class of the
// trail is full, so a flood of searches does not become a flood of logs.
const trailWarnEvery = time.Minute

// trailClass is one class's index and bound.
type trailClass struct {
	name     string
	prefix   string
	size     int
	count    int // entries indexed; loaded with the sequence
	dropped  atomic.Uint64
	lastWarn time.Time
}

// trailLog numbers access-trail entries and keeps each class's count; both
// are read from the store on first use.
type trailLog struct {
	mu           sync.Mutex
	loaded       bool
	seq          uint64
	search, kept trailClass
}

func (t *trailLog) class(name string) *trailClass {
	if name == inbox.TrailSearch {
		return &t.search
	}
	return &t.kept
}

// LogAccess appends a to the access trail. When a's class is over its
// bound the oldest entries of that class are dropped (at most two per
// call, so a lowered bound is reached gradually), counted in
// TrailDropped and warned about. It is written before the caller answers,
// so every read that was served is on the trail.
func (db *DB) LogAccess(a inbox.Access) error {
	a = inbox.BoundAccess(a)
	t := &db.trail
	t.mu.Lock()
	defer t.mu.Unlock()
	if a.At.IsZero() {
		a.At = db.opt.Now()
	}
	if !t.loaded {
		if err := db.loadTrail(); err != nil {
			return fmt.Errorf("access trail: %w", err)
		}
	}
	c := t.class(inbox.TrailClass(a.Action))
	a.Seq = t.seq + 1
	var dropped int
	err := db.bdb.Update(func(txn *badger.Txn) error {
		if err := putJSON(txn, seqKey(pfxTrail, a.Seq), a); err != nil {
			return err
		}
		if err := txn.Set(seqKey(c.prefix, a.Seq), nil); err != nil {
			return err
		}
		var err error
		dropped, err = dropOldest(txn, c.prefix, min(c.count+1-c.size, 2))
		return err
	})
	if err != nil {
		return fmt.Errorf("access trail: %w", err)
	}
	t.seq, c.count = a.Seq, c.count+1-dropped
	if dropped > 0 {
		db.trailDropped(c, dropped)
	}
	return nil
}

// dropOldest deletes the n oldest entries indexed under prefix, and
// returns how many it deleted.
func dropOldest(txn *badger.Txn, prefix string, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var seqs []uint64
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	for it.Rewind(); it.Valid() && len(seqs) < n; it.Next() {
		seqs = append(seqs, binary.BigEndian.Uint64(it.Item().Key()[len(prefix):]))
	}
	it.Close()
	for _, s := range seqs {
		if err := txn.Delete(seqKey(prefix, s)); err != nil {
			return 0, err
		}
		if err := txn.Delete(seqKey(pfxTrail, s)); err != nil {
			return 0, err
		}
	}
	return len(seqs), nil
}

// trailDropped counts a drop and warns, at most once per trailWarnEvery
// per class. The warning names the class and counts, never a token.
func (db *DB) trailDropped(c *trailClass, n int) {
	total := c.dropped.Add(uint64(n))
	now := db.opt.Now()
	if !c.lastWarn.IsZero() && now.Sub(c.lastWarn) < trailWarnEvery {
		return
	}
	c.lastWarn = now
	db.log.WithField("class", c.name).WithField("capacity", c.size).WithField("dropped_total", total).
		Warn("access trail full: oldest entries of this class dropped")
}

// TrailDropped is how many entries each trail class has dropped since
// the store opened, by class name.
func (db *DB) TrailDropped() map[string]uint64 {
	t := &db.trail
	return map[string]uint64{inbox.TrailSearch: t.search.dropped.Load(), inbox.TrailSensitive: t.kept.dropped.Load()}
}

// loadTrail reads the trail's sequence and each class's count. A trail
// written before entries were indexed by class is indexed once, here.
func (db *DB) loadTrail() error {
	t := &db.trail
	// Field by field: TrailDropped reads the atomic counters meanwhile.
	t.search.name, t.search.prefix, t.search.size = inbox.TrailSearch, pfxTrailSearch, db.opt.TrailSearchSize
	t.kept.name, t.kept.prefix, t.kept.size = inbox.TrailSensitive, pfxTrailKept, db.opt.TrailLogSize
	var all int
	err := db.bdb.View(func(txn *badger.Txn) error {
		t.seq = lastSeq(txn, pfxTrail)
		all = countKeys(txn, pfxTrail)
		t.search.count = countKeys(txn, pfxTrailSearch)
		t.kept.count = countKeys(txn, pfxTrailKept)
		return nil
	})
	if err == nil && all > 0 && t.search.count+t.kept.count == 0 {
		err = db.indexTrail()
	}
	t.loaded = err == nil
	return err
}

// indexTrail indexes every trail entry under its class.
func (db *DB) indexTrail() error {
	t := &db.trail
	wb := db.bdb.NewWriteBatch()
	defer wb.Cancel()
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxTrail), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var a inbox.Access
			if err := it.Item().Value(func(b []byte) error { return jsonUnmarshal(b, &a) }); err != nil {
				return err
			}
			c := t.class(inbox.TrailClass(a.Action))
			if err := wb.Set(seqKey(c.prefix, binary.BigEndian.Uint64(it.Item().Key()[len(pfxTrail):])), nil); err != nil {
				return err
			}
			c.count++
		}
		return nil
	})
	if err != nil {
		return err
	}
	return wb.Flush()
}

// countKeys counts the keys under prefix without reading their values.
func countKeys(txn *badger.Txn, prefix string) int {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid(); it.Next() {
		n++
	}
	return n
}

// AccessTrail returns up to limit trail entries, newest first, with Seq
// below before (0 means from the newest).
func (db *DB) AccessTrail(before uint64, limit int) ([]inbox.Access, error) {
	out := []inbox.Access{}
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte(pfxTrail), PrefetchValues: true})
		defer it.Close()
		start := append([]byte(pfxTrail), 0xff)
		if before != 0 {
			start = seqKey(pfxTrail, before-1)
		}
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			var a inbox.Access
			if err := it.Item().Value(func(b []byte) error { return jsonUnmarshal(b, &a) }); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("access trail: %w", err)
	}
	return out, nil
}
