package inbox

import (
	"github.com/dgraph-io/badger/v4"
)

// maxSettleBatch caps how many settlements share one transaction.
const maxSettleBatch = 128

type settleReq struct {
	fn   func(txn *badger.Txn) error
	done chan error
}

// settle hands fn to the settle writer and waits for its outcome. Each
// commit fsyncs (SyncWrites), so settling deliveries one transaction at a
// time would cost one sync each; the writer runs every settlement waiting
// in one transaction instead.
func (db *DB) settle(fn func(txn *badger.Txn) error) error {
	req := &settleReq{fn: fn, done: make(chan error, 1)}
	select {
	case db.settleCh <- req:
	case <-db.closing:
		return ErrClosed
	}
	select {
	case err := <-req.done:
		return err
	case <-db.settleStopped:
		select {
		case err := <-req.done:
			return err
		default:
		}
		return ErrClosed
	}
}

// settleLoop is the settle writer. It returns once Close has begun and
// nothing is left queued.
func (db *DB) settleLoop() {
	defer db.wg.Done()
	defer close(db.settleStopped)
	batch := make([]*settleReq, 0, maxSettleBatch)
	for {
		select {
		case req := <-db.settleCh:
			db.settleBatch(db.fillSettle(append(batch[:0], req)))
		case <-db.closing:
			for {
				select {
				case req := <-db.settleCh:
					db.settleBatch(db.fillSettle(append(batch[:0], req)))
				default:
					return
				}
			}
		}
	}
}

func (db *DB) fillSettle(batch []*settleReq) []*settleReq {
	for len(batch) < maxSettleBatch {
		select {
		case req := <-db.settleCh:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// settleBatch runs every fn of batch in one transaction. Should any of
// them fail (say, the entry it settles was replaced meanwhile) or the
// commit conflict, the whole transaction is discarded, so nothing is half
// written, and each fn is run again in a transaction of its own to get its
// own answer.
func (db *DB) settleBatch(batch []*settleReq) {
	if len(batch) > 1 {
		txn := db.bdb.NewTransaction(true)
		ok := true
		for _, req := range batch {
			if err := req.fn(txn); err != nil {
				ok = false
				break
			}
		}
		if ok && txn.Commit() == nil {
			for _, req := range batch {
				req.done <- nil
			}
			return
		}
		txn.Discard()
	}
	for _, req := range batch {
		req.done <- db.updateAlone(req.fn)
	}
}
