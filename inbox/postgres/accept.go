package postgres

import (
	"context"
	"fmt"

	"github.com/porchgw/porch/inbox"
)

type acceptReq struct {
	ctx  context.Context
	ev   *inbox.Event
	done chan inbox.Answer
}

// Accept archives ev and queues it for its destinations, or, when one of
// its dedup keys is still in the window, records it as a sighting of the
// event that claimed the key. It returns only after the COMMIT holding
// the outcome returned: this is the promise behind a 200.
//
// Concurrent calls share transactions: one writer goroutine per DB takes
// whatever is waiting (up to Options.MaxBatch) and commits it at once.
// Within a batch deliveries are handled in arrival order, so two
// identical deliveries arriving together yield one event and one
// duplicate; across nodes the chain_head lock orders batches.
//
// When ctx ends first Accept returns an error wrapping
// inbox.ErrNotDurable. A delivery withdrawn before its batch began is not
// written; one whose batch had begun is written whole or not at all.
//
// Accept sets ev.ID, ev.Seq, ev.PrevHash and ev.Hash on new events, once
// they are committed.
func (db *DB) Accept(ctx context.Context, ev *inbox.Event) (inbox.Result, error) {
	select {
	case <-db.closing:
		return inbox.Result{}, inbox.ErrClosed
	default:
	}
	req := &acceptReq{ctx: ctx, ev: ev, done: make(chan inbox.Answer, 1)}
	select {
	case db.acceptCh <- req:
	case <-ctx.Done():
		return inbox.Result{}, fmt.Errorf("accept: waiting to queue: %w", inbox.ErrNotDurable)
	case <-db.closing:
		return inbox.Result{}, inbox.ErrClosed
	}
	return inbox.AwaitAnswer(ctx, req.done, db.stopped)
}

// writeLoop is the node's single writer: it commits deliveries in
// batches until Close, then commits whatever is still queued.
func (db *DB) writeLoop() {
	defer close(db.stopped)
	batch := make([]*acceptReq, 0, db.opt.MaxBatch)
	for {
		select {
		case req := <-db.acceptCh:
			db.commit(db.fill(append(batch[:0], req)))
		case <-db.closing:
			for {
				select {
				case req := <-db.acceptCh:
					db.commit(db.fill(append(batch[:0], req)))
				default:
					return
				}
			}
		}
	}
}

// fill adds whatever else is waiting, up to Options.MaxBatch, without
// blocking: batches form from the deliveries that arrived while the
// previous COMMIT was in flight.
func (db *DB) fill(batch []*acceptReq) []*acceptReq {
	for len(batch) < db.opt.MaxBatch {
		select {
		case req := <-db.acceptCh:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// commit answers every request of batch, dropping those withdrawn
// before the batch began.
func (db *DB) commit(batch []*acceptReq) {
	live := make([]*acceptReq, 0, len(batch))
	for _, req := range batch {
		if req.ctx.Err() != nil {
			req.done <- inbox.Answer{Err: fmt.Errorf("accept: withdrawn: %w", inbox.ErrNotDurable)}
			continue
		}
		live = append(live, req)
	}
	if len(live) > 0 {
		db.commitBatch(live)
	}
}

func replyAll(reqs []*acceptReq, err error) {
	for _, req := range reqs {
		req.done <- inbox.Answer{Err: err}
	}
}
