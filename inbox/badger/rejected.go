package badger

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// LogRejection records r in the bounded log of rejected and control
// requests, its headers bounded (BoundHeaders). It never blocks the
// caller: entries go to a background writer, and when a flood outruns it
// the excess is dropped (a flood of bad signatures must not slow down
// good deliveries). The log is not
// fsynced; it is evidence, not a promise.
func (db *DB) LogRejection(r inbox.Rejection) {
	r.Headers = inbox.BoundHeaders(r.Headers) // once, here, so a queued entry is small too
	select {
	case db.rejectCh <- &r:
	default: // dropped: the writer is behind
	}
}

// rejectLog is the rejection logger's view of what the log holds: the
// stored size of each entry, oldest first, and their sum. Only the logger
// goroutine touches it.
type rejectLog struct {
	entries []rejectEntry
	bytes   int64
}

type rejectEntry struct {
	seq  uint64
	size int64
}

// rejectLoop writes queued rejections in batches and trims the log to
// Options.RejectedLogSize entries and Options.RejectedLogBytes bytes.
func (db *DB) rejectLoop() {
	defer db.wg.Done()
	log := db.loadRejectLog()
	for {
		select {
		case r := <-db.rejectCh:
			log = db.writeRejections(log, r)
		case <-db.closing:
			for {
				select {
				case r := <-db.rejectCh:
					log = db.writeRejections(log, r)
				default:
					return
				}
			}
		}
	}
}

// loadRejectLog reads the sizes of the stored entries.
func (db *DB) loadRejectLog() rejectLog {
	var log rejectLog
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxReject)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != len(pfxReject)+8 {
				continue
			}
			e := rejectEntry{seq: binary.BigEndian.Uint64(k[len(pfxReject):]), size: it.Item().ValueSize()}
			log.entries = append(log.entries, e)
			log.bytes += e.size
		}
		return nil
	})
	if err != nil {
		db.log.WithError(err).Warn("read rejection log sizes")
	}
	return log
}

// rejectLinger is how long the rejection logger waits for more refusals
// to share a commit.
const rejectLinger = 50 * time.Millisecond

// writeRejections writes first and what queues behind it, dropping the
// oldest entries past the log's bounds, and returns the log as stored.
func (db *DB) writeRejections(log rejectLog, first *inbox.Rejection) rejectLog {
	// The log is best effort (a refused request promises nothing), so it
	// waits a little for company: a flood of bad signatures is written in
	// a few commits a second, not one sync per request.
	batch := inbox.FillWithin(db.rejectCh, []*inbox.Rejection{first}, 256, rejectLinger, db.closing)
	next := rejectLog{entries: slices.Clone(log.entries), bytes: log.bytes}
	err := db.bdb.Update(func(txn *badger.Txn) error {
		for _, r := range batch {
			r.Seq = db.rejectSeq.Add(1)
			b, err := inbox.EncodeRejection(r)
			if err != nil {
				return err
			}
			if err := txn.Set(seqKey(pfxReject, r.Seq), b); err != nil {
				return fmt.Errorf("store rejection: %w", err)
			}
			next.entries = append(next.entries, rejectEntry{seq: r.Seq, size: int64(len(b))})
			next.bytes += int64(len(b))
		}
		for len(next.entries) > db.opt.RejectedLogSize || next.bytes > db.opt.RejectedLogBytes {
			old := next.entries[0]
			if err := txn.Delete(seqKey(pfxReject, old.seq)); err != nil {
				return err
			}
			next.entries, next.bytes = next.entries[1:], next.bytes-old.size
		}
		return nil
	})
	if err != nil {
		db.log.WithError(err).Warn("write rejection log")
		return log
	}
	return next
}

// Rejections returns up to limit entries of the rejection log, newest
// first, with Seq below before (0 means from the newest).
func (db *DB) Rejections(before uint64, limit int) ([]inbox.Rejection, error) {
	var out []inbox.Rejection
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte(pfxReject), PrefetchValues: true})
		defer it.Close()
		start := seqKey(pfxReject, before)
		if before == 0 {
			start = append([]byte(pfxReject), 0xff)
		}
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			var r inbox.Rejection
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
