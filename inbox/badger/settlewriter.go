package badger

import (
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
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
		return inbox.ErrClosed
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
		return inbox.ErrClosed
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
	return inbox.FillWithin(db.settleCh, batch, maxSettleBatch, settleLinger, db.closing)
}

// settleLinger is how long the settle writer waits for more settlements
// to share a commit. Outcomes only need to be durable eventually (one
// lost in a crash is a redelivery), and each commit costs two syncs: at
// a few thousand forwards a second, batches of two or three made the
// syncs the largest single CPU cost of the gateway.
const settleLinger = 5 * time.Millisecond

// untouched marks a settle function's error returned before it wrote
// anything (the entry it settles is gone): the transaction is as it was,
// so the rest of a batch can still commit in it.
type untouched struct{ error }

func (u untouched) Unwrap() error { return u.error }

// settleBatch runs every fn of batch in one transaction. A fn failing
// untouched gets its error and is left out. Should any other fail, or
// the commit conflict, the whole transaction is discarded, so nothing is
// half written, and each fn is run again in a transaction of its own to
// get its own answer.
func (db *DB) settleBatch(batch []*settleReq) {
	if len(batch) > 1 {
		txn := db.bdb.NewTransaction(true)
		ok := true
		errs := make([]error, len(batch))
		for i, req := range batch {
			err := req.fn(txn)
			var u untouched
			if errors.As(err, &u) {
				errs[i] = u.error
				continue
			}
			if err != nil {
				ok = false
				break
			}
		}
		if ok && txn.Commit() == nil {
			for i, req := range batch {
				req.done <- errs[i]
			}
			return
		}
		txn.Discard()
	}
	for _, req := range batch {
		err := db.updateAlone(req.fn)
		if u, ok := err.(untouched); ok {
			err = u.error
		}
		req.done <- err
	}
}
