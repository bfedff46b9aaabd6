package inbox

import (
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// pfxTrail holds the access trail: t/<seq, 8 bytes BE> → Access (JSON).
const pfxTrail = "t/"

// Access is one entry of the access trail: who read what from the
// archive. Token is a fingerprint, never the token.
type Access struct {
	Seq       uint64    `json:"seq"` // set by LogAccess
	At        time.Time `json:"at"`
	Token     string    `json:"token"` // fingerprint of the token used
	Role      string    `json:"role"`
	Action    string    `json:"action"` // view, raw, download, export, search, verify, replay, deadletters, rejections, trail, backup, reload, debug
	EventIDs  []string  `json:"event_ids,omitempty"`
	Query     string    `json:"query,omitempty"` // the filters of a search or export
	Count     int       `json:"count,omitempty"` // events returned, for searches and exports
	RequestID string    `json:"request_id,omitempty"`
	Remote    string    `json:"remote,omitempty"`
}

// trailLog numbers access-trail entries; its sequence is read from the
// store on first use.
type trailLog struct {
	mu     sync.Mutex
	loaded bool
	seq    uint64
}

// LogAccess appends a to the bounded access trail (Options.TrailLogSize
// entries; the oldest are dropped). It is written before the caller
// answers, so every read that was served is on the trail.
func (db *DB) LogAccess(a Access) error {
	db.trail.mu.Lock()
	defer db.trail.mu.Unlock()
	if a.At.IsZero() {
		a.At = db.opt.Now()
	}
	err := db.bdb.Update(func(txn *badger.Txn) error {
		if !db.trail.loaded {
			db.trail.seq, db.trail.loaded = lastSeq(txn, pfxTrail), true
		}
		a.Seq = db.trail.seq + 1
		if err := putJSON(txn, seqKey(pfxTrail, a.Seq), a); err != nil {
			return err
		}
		if size := uint64(db.opt.TrailLogSize); a.Seq > size {
			return txn.Delete(seqKey(pfxTrail, a.Seq-size))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("access trail: %w", err)
	}
	db.trail.seq = a.Seq
	return nil
}

// AccessTrail returns up to limit trail entries, newest first, with Seq
// below before (0 means from the newest).
func (db *DB) AccessTrail(before uint64, limit int) ([]Access, error) {
	out := []Access{}
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte(pfxTrail), PrefetchValues: true})
		defer it.Close()
		start := append([]byte(pfxTrail), 0xff)
		if before != 0 {
			start = seqKey(pfxTrail, before-1)
		}
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			var a Access
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
