package inbox

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// LogRejection records r in the bounded log of rejected and control
// requests. It never blocks the caller: entries go to a background writer,
// and when a flood outruns it the excess is dropped and counted (a flood
// of bad signatures must not slow down good deliveries). The log is not
// fsynced; it is evidence, not a promise.
func (db *DB) LogRejection(r Rejection) {
	select {
	case db.rejectCh <- &r:
	default:
		db.rejectDropped.Add(1)
	}
}

// RejectionsDropped counts log entries dropped because the writer was
// behind.
func (db *DB) RejectionsDropped() uint64 { return db.rejectDropped.Load() }

// rejectLoop writes queued rejections in batches and trims the log to
// Options.RejectedLogSize.
func (db *DB) rejectLoop() {
	defer db.wg.Done()
	for {
		select {
		case r := <-db.rejectCh:
			db.writeRejections(r)
		case <-db.closing:
			for {
				select {
				case r := <-db.rejectCh:
					db.writeRejections(r)
				default:
					return
				}
			}
		}
	}
}

// rejectLinger is how long the rejection logger waits for more refusals
// to share a commit.
const rejectLinger = 50 * time.Millisecond

func (db *DB) writeRejections(first *Rejection) {
	// The log is best effort (a refused request promises nothing), so it
	// waits a little for company: a flood of bad signatures is written in
	// a few commits a second, not one sync per request.
	batch := gather(db.rejectCh, []*Rejection{first}, 256, rejectLinger, db.closing)
	err := db.bdb.Update(func(txn *badger.Txn) error {
		for _, r := range batch {
			r.Seq = db.rejectSeq.Add(1)
			if err := putJSON(txn, seqKey(pfxReject, r.Seq), r); err != nil {
				return err
			}
			if old := r.Seq - uint64(db.opt.RejectedLogSize); r.Seq > uint64(db.opt.RejectedLogSize) {
				if err := txn.Delete(seqKey(pfxReject, old)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		db.log.WithError(err).Warn("write rejection log")
	}
}

// Rejections returns up to limit entries of the rejection log, newest
// first, with Seq below before (0 means from the newest).
func (db *DB) Rejections(before uint64, limit int) ([]Rejection, error) {
	var out []Rejection
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte(pfxReject), PrefetchValues: true})
		defer it.Close()
		start := seqKey(pfxReject, before)
		if before == 0 {
			start = append([]byte(pfxReject), 0xff)
		}
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			var r Rejection
			if err := it.Item().Value(func(b []byte) error { return jsonUnmarshal(b, &r) }); err != nil {
				return err
			}
			if before != 0 && r.Seq >= before {
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rejections: %w", err)
	}
	return out, nil
}
