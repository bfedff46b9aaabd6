package badger

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// keyCheckpoint holds the chain link (seq, hash, id) of the newest event
// retention removed: verification starts from it.
const keyCheckpoint = "m/checkpoint"

var zeroTime time.Time

// pruneBatch is how many events one retention transaction removes at
// most; Prune halves it for a pass whose events have too many records for
// one of Badger's transactions.
const pruneBatch = 200

// Prune removes the events archived before cutoff, oldest first: metadata,
// raw body, index entries, sightings, and their settled deliveries'
// states, history and dead letters. Removal
// keeps the chain verifiable: the newest removed link is saved as the
// checkpoint in the same transaction, and it only ever removes a prefix of
// the chain, so it stops at the first old event with a delivery still
// pending and resumes there on a later pass, once it is settled.
func (db *DB) Prune(cutoff time.Time) (inbox.PruneReport, error) {
	var rep inbox.PruneReport
	hi := inbox.IDAt(cutoff)
	limit := pruneBatch
	for {
		n, held, err := db.pruneOnce(hi, limit, &rep)
		switch {
		case errors.Is(err, badger.ErrConflict):
			continue // a delivery changed under us: look again
		case errors.Is(err, badger.ErrTxnTooBig) && limit > 1:
			limit /= 2 // long delivery histories: fewer events per transaction
			continue
		case errors.Is(err, badger.ErrTxnTooBig):
			n, err := db.dropHistory(hi)
			if err != nil {
				return rep, fmt.Errorf("prune: %w", err)
			}
			if n == 0 {
				return rep, errors.New("prune: an event has more records than one transaction holds")
			}
			continue
		case err != nil:
			return rep, fmt.Errorf("prune: %w", err)
		}
		rep.Removed += n
		if held != "" || n < limit {
			rep.HeldBy = held
			return rep, nil
		}
	}
}

// historyChunk is how many attempt records dropHistory deletes in one
// transaction.
const historyChunk = 1000

// dropHistory deletes the delivery history (attempt records) of the
// oldest event below hi, when its deliveries are settled, in
// transactions of historyChunk records: for an event whose records do
// not fit one transaction together, so that Prune can then remove the
// rest in one. It reports how many records it deleted. Stopped half way,
// it leaves an event past retention with part of its history, which the
// next pass removes.
func (db *DB) dropHistory(hi string) (int, error) {
	var id string
	err := db.bdb.View(func(txn *badger.Txn) error {
		return walkEvents(txn, "", hi, nil, func(e *inbox.Event, _ []byte) (bool, error) {
			settled, err := deliveriesSettled(txn, e.ID)
			if err == nil && settled {
				id = e.ID
			}
			return false, err
		})
	})
	if err != nil || id == "" {
		return 0, err
	}
	prefix := []byte(pfxAttempt + id + "/")
	removed := 0
	for {
		var keys [][]byte
		err := db.bdb.Update(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			for it.Rewind(); it.Valid() && len(keys) < historyChunk; it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			it.Close()
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("drop history of %s: %w", id, err)
		}
		if len(keys) == 0 {
			return removed, nil
		}
		removed += len(keys)
	}
}

// pruneOnce removes up to limit events with ids below hi in one
// transaction.
func (db *DB) pruneOnce(hi string, limit int, rep *inbox.PruneReport) (removed int, held string, err error) {
	var victims []*inbox.Event
	var seq uint64 // the checkpoint once this transaction commits
	defer func() {
		if err == nil {
			rep.Checkpoint = seq
			for _, e := range victims {
				db.recent.drop(e.ID)
			}
		}
	}()
	err = db.bdb.Update(func(txn *badger.Txn) error {
		var cp chainHead
		if err := getJSON(txn, []byte(keyCheckpoint), &cp); err != nil && !errors.Is(err, inbox.ErrNotFound) {
			return err
		}
		victims = victims[:0]
		err := walkEvents(txn, "", hi, nil, func(e *inbox.Event, _ []byte) (bool, error) {
			settled, err := deliveriesSettled(txn, e.ID)
			if err != nil {
				return false, err
			}
			if !settled {
				held = e.ID
				return false, nil
			}
			victims = append(victims, e)
			return len(victims) < limit, nil
		})
		if err != nil {
			return err
		}
		for _, e := range victims {
			if err := removeEvent(txn, e); err != nil {
				return err
			}
			cp = chainHead{Seq: e.Seq, Hash: e.Hash, ID: e.ID}
		}
		removed = len(victims)
		seq = cp.Seq
		if removed == 0 {
			return nil
		}
		return putJSON(txn, []byte(keyCheckpoint), cp)
	})
	return removed, held, err
}

// deliveriesSettled reports whether no delivery of event id is pending.
// The delivery states belong to forwarding (outbox.go); retention only
// reads them.
func deliveriesSettled(txn *badger.Txn, id string) (bool, error) {
	settled := true
	err := scanJSON(txn, pfxDelivery+id+"/", func(d *inbox.DeliveryState) error {
		if d.Status != inbox.DeliveryDelivered && d.Status != inbox.DeliveryDead {
			settled = false
		}
		return nil
	})
	return settled, err
}

// removeEvent stages the deletion of e and everything hanging off it:
// its delivery states, delivery history, dead letters and enrichment
// record go with it (a dead letter whose payload is gone could not be
// replayed anyway).
func removeEvent(txn *badger.Txn, e *inbox.Event) error {
	keys := append(indexKeys(e), eventKey(e.ID), bodyKey(e.ID), sightingsKey(e.ID), []byte(pfxEnrichment+e.ID))
	keys = append(keys, legacyIndexKeys(e)...)
	for _, p := range []string{pfxDelivery, pfxAttempt, pfxDead} {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(p + e.ID + "/")})
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		it.Close()
	}
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return fmt.Errorf("remove %s: %w", k, err)
		}
	}
	return nil
}

// Checkpoint returns the chain link retention last removed: seq 0 and
// GenesisHash when nothing was ever removed.
func (db *DB) Checkpoint() (seq uint64, hash string, err error) {
	var cp chainHead
	err = db.bdb.View(func(txn *badger.Txn) error { return getJSON(txn, []byte(keyCheckpoint), &cp) })
	if errors.Is(err, inbox.ErrNotFound) {
		return 0, inbox.GenesisHash, nil
	}
	return cp.Seq, cp.Hash, err
}

// retentionLoop prunes events older than Options.Retention, at once and
// then every Options.RetentionInterval, until Close: as on PostgreSQL, so
// that a node restarted more often than the interval still prunes.
func (db *DB) retentionLoop() {
	defer db.wg.Done()
	pass := func() bool {
		rep, err := db.Prune(db.opt.Now().Add(-db.opt.Retention))
		switch {
		case err != nil:
			db.log.WithError(err).Warn("archive retention pass failed")
		case rep.Removed > 0 || rep.HeldBy != "":
			db.log.WithField("removed", rep.Removed).WithField("held_by", rep.HeldBy).Info("archive retention pass")
		}
		return true
	}
	select {
	case <-db.closing:
		return
	default:
		pass()
	}
	db.every(db.opt.RetentionInterval, pass)
}
