package badger

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// Abandon works through the outbox in chunks: each reads at most
// abandonScan keys and dead-letters at most abandonChunk entries in one
// transaction, so a huge backlog never makes one huge transaction, and
// Claim (which waits on the claim set Abandon holds) waits one chunk at
// most.
const (
	abandonChunk = 128
	abandonScan  = 4096
)

// Abandon dead-letters every pending delivery to dest whose claim, if
// any, has lapsed at now; see inbox.Outbox. Outbox keys lead with the due
// time, so every chunk scans on from where the last one stopped.
func (db *DB) Abandon(dest string, r inbox.AbandonRequest, now time.Time) (inbox.Abandoned, error) {
	return db.abandon(dest, r, now, chunkBounds{take: abandonChunk, scan: abandonScan})
}

// chunkBounds bound one chunk of an Abandon: entries taken, keys read.
type chunkBounds struct{ take, scan int }

// abandon is Abandon in chunks of the given bounds.
func (db *DB) abandon(dest string, r inbox.AbandonRequest, now time.Time, b chunkBounds) (inbox.Abandoned, error) {
	var out inbox.Abandoned
	leased := map[string]bool{}
	var from []byte
	for {
		n, next, err := db.abandonChunk(dest, r, now, b, from, leased)
		out.DeadLettered += n
		if err != nil || next == nil {
			out.Leased = len(leased)
			return out, err
		}
		from = next
	}
}

// abandonChunk dead-letters the entries for dest among the outbox keys
// from from on, within b, and returns how many it took and the key to go
// on from (nil at the end of the outbox). It notes in leased the entries
// it left for a live claim, and forgets those it took (a claim that
// retried its entry moved it further on).
//
// The claim set stays locked from the scan until the commit has
// returned: Claim opens its snapshot after taking the lock, so it never
// hands out an entry this chunk removes, and an entry claimed before the
// scan is seen as claimed.
func (db *DB) abandonChunk(dest string, r inbox.AbandonRequest, now time.Time, b chunkBounds, from []byte, leased map[string]bool) (int, []byte, error) {
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	batch, next, err := db.abandonScan(dest, now, b, from, leased)
	if err != nil || len(batch) == 0 {
		return 0, next, err
	}
	var took []string
	err = db.settle(func(txn *badger.Txn) error {
		took = took[:0] // the settle writer may run this twice
		for _, d := range batch {
			ok, err := db.abandonOne(txn, d, r, now)
			if err != nil {
				return err
			}
			if ok {
				took = append(took, claimKey(d.EventID, d.Destination))
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("abandon %s: %w", dest, err)
	}
	for _, k := range took {
		delete(leased, k)
	}
	return len(took), next, nil
}

// abandonScan reads the outbox from key from on (nil: from its start)
// and returns the entries for dest that no live claim holds, and the
// first key it did not look at (nil at the end); it notes the claimed
// ones in leased. Callers hold db.claims.mu.
func (db *DB) abandonScan(dest string, now time.Time, b chunkBounds, from []byte, leased map[string]bool) ([]inbox.Delivery, []byte, error) {
	var batch []inbox.Delivery
	var next []byte
	if from == nil {
		from = []byte(pfxOutbox)
	}
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxOutbox)})
		defer it.Close()
		scanned := 0
		for it.Seek(from); it.Valid(); it.Next() {
			if scanned == b.scan || len(batch) == b.take {
				next = it.Item().KeyCopy(nil)
				return nil
			}
			scanned++
			k := it.Item().Key()
			_, id, d, ok := parseOutboxKey(k)
			if !ok || d != dest {
				continue
			}
			if _, held := db.claims.held(claimKey(id, d), now); held {
				leased[claimKey(id, d)] = true
				continue
			}
			var e inbox.Delivery
			if err := it.Item().Value(func(b []byte) error { return jsonUnmarshal(b, &e) }); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			batch = append(batch, e)
		}
		return nil
	})
	return batch, next, err
}

// abandonOne stages the move of d to the dead letters; false when its
// entry is gone (settled, or retried to a later key, since the scan).
func (db *DB) abandonOne(txn *badger.Txn, d inbox.Delivery, r inbox.AbandonRequest, now time.Time) (bool, error) {
	if err := takeOutbox(txn, &d); errors.Is(err, inbox.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	a := inbox.Attempt{Kind: inbox.AttemptAbandon, At: now, Outcome: inbox.OutcomeDead, By: r.By, Reason: r.Reason}
	if err := putDeadLetter(txn, &d, &a, r.Reason); err != nil {
		return false, err
	}
	return true, db.finish(txn, &d, &a, inbox.DeliveryDead, r.Reason)
}
