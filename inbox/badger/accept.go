package badger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
	"github.com/porchgw/porch/inbox"
)

type acceptReq struct {
	ctx  context.Context
	ev   *inbox.Event
	done chan inbox.Answer
	size int64 // room taken in db.queued, given back once the writer is done with it
}

// Accept archives ev and queues it for its destinations, or, when one of
// its dedup keys is still in the window, records it as a sighting of the
// event that claimed the key. Either way the outcome is committed and
// fsynced before Accept returns nil: this is the promise behind a 200.
//
// Concurrent calls share commits: one writer goroutine stages what
// arrives while the previous commit is under way (up to
// Options.MaxBatch, see writeLoop) in one transaction, and syncs once.
// Deliveries are handled in arrival order, so two identical deliveries
// yield one event and one duplicate.
//
// When ctx ends first Accept returns an error wrapping ErrNotDurable. A
// delivery withdrawn before its batch began is not written at all; one
// whose batch had begun is written whole. Either way nothing is half
// written, and a retry of the delivery learns which (a new event, or a
// duplicate of the stored one).
//
// Accept sets ev.ID, ev.Seq, ev.PrevHash and ev.Hash on new events.
func (db *DB) Accept(ctx context.Context, ev *inbox.Event) (inbox.Result, error) {
	select {
	case <-db.closing:
		return inbox.Result{}, inbox.ErrClosed
	default:
	}
	req := &acceptReq{ctx: ctx, ev: ev, done: make(chan inbox.Answer, 1), size: min(max(2*int64(len(ev.Body)), 1), db.queuedMax)}
	// A caller that gives up leaves its request queued until the writer
	// reaches it, body and all: the room it takes bounds what a stalled
	// disk can make the queue hold. A staged delivery's body is held twice
	// until its commit, in the request and in its record: twice its size.
	if err := db.queued.Acquire(ctx, req.size); err != nil {
		return inbox.Result{}, fmt.Errorf("accept: waiting for room in the queue: %w", inbox.ErrNotDurable)
	}
	select {
	case db.acceptCh <- req:
	case <-ctx.Done():
		db.queued.Release(req.size)
		return inbox.Result{}, fmt.Errorf("accept: waiting to queue: %w", inbox.ErrNotDurable)
	case <-db.closing:
		db.queued.Release(req.size)
		return inbox.Result{}, inbox.ErrClosed
	}
	return inbox.AwaitAnswer(ctx, req.done, db.stopped)
}

// dequeued gives back the queue room of requests the writer is done with.
func (db *DB) dequeued(b []*acceptReq) {
	for _, req := range b {
		db.queued.Release(req.size)
	}
}

// writeLoop is the single writer: it owns the chain head and the ULID
// entropy, and commits deliveries in batches until Close, after which it
// commits whatever is still queued and returns.
//
// A batch (flight) is handed to Badger with CommitWith, and the writer
// goes back to its queue. The first delivery that arrives opens the next
// transaction (next), which Badger lets begin only once flight is
// written and fsynced; the writer then stages into it what arrives,
// answers flight when its callback reports, and commits next at once.
// So a batch is whatever arrived during the commit before it, an idle
// store commits a lone delivery straight away, and only after a busy
// batch that queued deliveries for the forwarder does the next one
// linger (see lingerAfter).
func (db *DB) writeLoop() {
	defer db.wg.Done()
	defer close(db.stopped)
	var flight, next *batch
	var linger <-chan time.Time // set while next waits for a fuller batch
	target := 0                 // the size that ends the wait
	send := func() {
		linger = nil
		if next = db.stageWaiting(nil, next); next != nil && next.sync {
			db.commitSync(next)
		} else if next != nil {
			flight = db.submit(next)
		}
		next = nil
	}
	for {
		var landed <-chan error
		if flight != nil {
			landed = flight.done
		}
		in := db.acceptCh
		if next != nil && next.full {
			in = nil
		}
		select {
		case req := <-in:
			next = db.stage(flight, next, req)
			if next != nil && next.sync {
				// Staging met an error: the batch is built again on the
				// plain path once flight has landed, which sorts it out.
				if flight != nil {
					next = db.land(flight, next, <-flight.done)
					flight = nil
				}
				if next != nil {
					db.commitSync(next)
					next = nil
				}
				linger = nil
				continue
			}
			if flight == nil && next != nil && (linger == nil || len(next.reqs) >= target || next.full) {
				send()
			}
		case err := <-landed:
			done := flight
			next, flight = db.land(flight, next, err), nil
			if err == nil && done.st.queued && len(done.reqs) >= lingerAfter {
				linger, target = time.After(db.linger), min(2*len(done.reqs), db.opt.MaxBatch)
			}
			if next != nil && (linger == nil || len(next.reqs) >= target || next.full) {
				send()
			}
		case <-linger:
			if flight == nil && next != nil {
				send()
			}
			linger = nil
		case <-db.closing:
			if flight != nil {
				next = db.land(flight, next, <-flight.done)
			}
			if next != nil {
				db.commitSync(next)
			}
			for {
				select {
				case req := <-db.acceptCh:
					b := db.fill(append([]*acceptReq(nil), req))
					db.commit(b)
					db.dequeued(b)
				default:
					return
				}
			}
		}
	}
}

// Forwarding under load: after a batch of lingerAfter or more deliveries
// that queued deliveries for the forwarder, the next batch waits up to
// acceptLinger to reach twice that, as PostgreSQL's commit_delay does
// with commit_siblings: fewer, larger commits leave the disk and CPU to
// the forwarder, which sends and records every one of those deliveries.
// With 2 ms the backlog still grew through a 40 s run at 32 senders;
// with 4 ms it stayed under about 300. Batches that queued nothing (an
// archive-only source) never wait.
const (
	lingerAfter  = 4
	acceptLinger = 4 * time.Millisecond // DB.linger, unless a test changes it
)

// batch is a transaction the writer is staging (next) or has handed to
// Badger (flight).
type batch struct {
	txn     *badger.Txn
	reqs    []*acceptReq
	results []inbox.Result
	st      batchState
	full    bool       // Options.MaxBatch deliveries staged
	sync    bool       // staging failed: commit reqs on the plain path
	done    chan error // the commit's outcome, once submitted
}

// stage adds req to next (a new batch after flight when next is nil)
// and returns next. A batch that cannot take req is marked sync, with
// req among its reqs. A new transaction begins once every commit under
// way, flight's included, is done (Badger's read timestamp waits for
// them), so next sees what flight stored.
func (db *DB) stage(flight, next *batch, req *acceptReq) *batch {
	if next == nil {
		if err := db.refusing(); err != nil {
			req.done <- inbox.Answer{Err: err}
			db.dequeued([]*acceptReq{req})
			return nil
		}
		next = &batch{txn: db.bdb.NewTransaction(true)}
		next.st = batchState{head: db.head, lastMs: db.lastMs, now: db.opt.Now()}
		if flight != nil {
			next.st.head, next.st.lastMs = flight.st.head, flight.st.lastMs
		}
	}
	if req.ctx.Err() != nil {
		req.done <- inbox.Answer{Err: fmt.Errorf("accept: withdrawn: %w", inbox.ErrNotDurable)}
		db.dequeued([]*acceptReq{req})
		return next
	}
	st := next.st
	r, err := db.acceptOne(next.txn, &st, req.ev)
	next.reqs = append(next.reqs, req)
	if err != nil {
		next.sync = true
		return next
	}
	next.st = st
	next.results = append(next.results, r)
	next.full = len(next.reqs) >= db.opt.MaxBatch
	return next
}

// stageWaiting stages what is already queued, without waiting, until
// next is full.
func (db *DB) stageWaiting(flight, next *batch) *batch {
	for next != nil && !next.full && !next.sync {
		select {
		case req := <-db.acceptCh:
			next = db.stage(flight, next, req)
		default:
			return next
		}
	}
	return next
}

// refusing is why the store takes no deliveries now, if it does not.
func (db *DB) refusing() error {
	if p := db.failed.Load(); p != nil {
		return fmt.Errorf("accept: store failed earlier: %w", inbox.ErrNotDurable)
	}
	if err := db.checkDisk(); err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	return nil
}

// submit hands b to Badger, which writes and fsyncs it and then reports
// on b.done. A head too big for the transaction sends b down the plain
// path instead (which splits it), and submit returns nil.
func (db *DB) submit(b *batch) *batch {
	if len(b.reqs) == 0 {
		b.txn.Discard()
		return nil
	}
	if err := putJSON(b.txn, []byte(keyHead), b.st.head); err != nil {
		db.commitSync(b)
		return nil
	}
	if db.beforeCommit != nil {
		db.beforeCommit()
	}
	b.done = make(chan error, 1)
	b.txn.CommitWith(func(err error) { b.done <- err })
	return b
}

// land settles flight, whose commit reported err, and returns what is
// left of next, which was staged on top of it. On success it answers
// flight's deliveries and next stays as it is. Otherwise next is no
// longer sound: after a conflict both are built again on the plain
// path; after a failed write the store refuses both.
func (db *DB) land(flight, next *batch, err error) *batch {
	if flight == nil {
		return next
	}
	defer db.dequeued(flight.reqs)
	if flight.st.queued {
		// Whatever the outcome: a commit that failed in its sync may
		// already be applied (Badger writes the memtable first).
		db.floor.lower(flight.st.now)
	}
	switch {
	case err == nil:
		db.answer(flight.reqs, flight.results, flight.st)
		return next
	case errors.Is(err, badger.ErrConflict):
		db.commitTxn(flight.reqs)
	default:
		db.failed.CompareAndSwap(nil, &err)
		db.log.WithError(err).Error("commit failed; refusing deliveries until porch is restarted")
		replyAll(flight.reqs, fmt.Errorf("accept: commit: %w: %w", inbox.ErrNotDurable, err))
	}
	if next != nil {
		db.commitSync(next)
	}
	return nil
}

// commitSync discards b's transaction and commits b's deliveries on the
// plain path, which builds the batch again from what is stored.
func (db *DB) commitSync(b *batch) {
	b.txn.Discard()
	db.commit(b.reqs)
	db.dequeued(b.reqs)
}

// fill adds whatever else is waiting, up to Options.MaxBatch, without
// blocking.
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

// commit answers every request of batch, on the plain path: one
// transaction, built and committed while the writer waits.
func (db *DB) commit(batch []*acceptReq) {
	if err := db.refusing(); err != nil {
		replyAll(batch, err)
		return
	}
	live := make([]*acceptReq, 0, len(batch))
	for _, req := range batch {
		if req.ctx.Err() != nil {
			req.done <- inbox.Answer{Err: fmt.Errorf("accept: withdrawn: %w", inbox.ErrNotDurable)}
			continue
		}
		live = append(live, req)
	}
	db.commitTxn(live)
}

func replyAll(reqs []*acceptReq, err error) {
	for _, req := range reqs {
		req.done <- inbox.Answer{Err: err}
	}
}

// batchState is the writer's view while it builds one transaction; it
// becomes the DB's only when the transaction commits.
type batchState struct {
	head   chainHead
	lastMs uint64
	now    time.Time
	queued bool
}

// commitTxn writes reqs in one transaction and syncs. A transaction too
// big for Badger is split in halves.
//
// Durability note (keep when merging): the store opens Badger with
// SyncWrites, so txn.Commit returns only after the WAL and value log are
// fsynced, and nothing becomes visible before that. Do not go back to
// SyncWrites(false) plus DB.Sync after the commit, pipelined or not:
// DB.Sync syncs only the active memtable's WAL, and a memtable rotation
// between the commit and the sync (any other writer can cause one; a
// pipelined writer makes it likely) leaves an acknowledged batch in an
// unsynced log until its flush, lost on power failure.
func (db *DB) commitTxn(reqs []*acceptReq) {
	for try := 1; ; try++ {
		if !db.tryCommit(reqs, try == maxConflictTries) {
			return
		}
		db.log.WithField("try", try).Warn("accept batch conflicted with another writer; building it again")
	}
}

// maxConflictTries bounds how often a batch is built again after a
// conflict before its deliveries get 503.
const maxConflictTries = 3

// tryCommit is one go at commitTxn. It reports true, having answered
// nobody, when the commit conflicted with another writer's (say,
// retention removing the event a duplicate in this batch points to):
// Badger then wrote nothing, and the batch must be built again from what
// is stored now. With last set, a conflict is answered 503 instead.
func (db *DB) tryCommit(reqs []*acceptReq, last bool) (conflicted bool) {
	if len(reqs) == 0 {
		return false
	}
	txn := db.bdb.NewTransaction(true)
	defer txn.Discard()
	st := batchState{head: db.head, lastMs: db.lastMs, now: db.opt.Now()}
	results := make([]inbox.Result, len(reqs))
	for i, req := range reqs {
		r, err := db.acceptOne(txn, &st, req.ev)
		if errors.Is(err, badger.ErrTxnTooBig) && len(reqs) > 1 {
			txn.Discard()
			db.commitTxn(reqs[:len(reqs)/2])
			db.commitTxn(reqs[len(reqs)/2:])
			return false
		}
		if err != nil {
			db.failOne(txn, reqs, i, err)
			return false
		}
		results[i] = r
	}
	if err := putJSON(txn, []byte(keyHead), st.head); err != nil {
		if errors.Is(err, badger.ErrTxnTooBig) && len(reqs) > 1 {
			txn.Discard() // the head did not fit after the last delivery: split as above
			db.commitTxn(reqs[:len(reqs)/2])
			db.commitTxn(reqs[len(reqs)/2:])
			return false
		}
		replyAll(reqs, fmt.Errorf("accept: %w: %w", inbox.ErrNotDurable, err))
		return false
	}
	if db.beforeCommit != nil {
		db.beforeCommit()
	}
	// With SyncWrites, Commit returns once the batch is fsynced. Lower
	// the floor whatever the outcome: a commit that failed in its sync may
	// already be applied (Badger writes the memtable first).
	err := txn.Commit()
	if st.queued {
		db.floor.lower(st.now)
	}
	if errors.Is(err, badger.ErrConflict) {
		if !last {
			return true
		}
		replyAll(reqs, fmt.Errorf("accept: commit: %w: %w", inbox.ErrNotDurable, err))
		return false
	}
	if err != nil {
		db.failed.CompareAndSwap(nil, &err)
		db.log.WithError(err).Error("commit failed; refusing deliveries until porch is restarted")
		replyAll(reqs, fmt.Errorf("accept: commit: %w: %w", inbox.ErrNotDurable, err))
		return false
	}
	db.answer(reqs, results, st)
	return false
}

// answer makes a committed batch the writer's state and answers its
// deliveries.
func (db *DB) answer(reqs []*acceptReq, results []inbox.Result, st batchState) {
	db.head, db.lastMs = st.head, st.lastMs
	for i, req := range reqs {
		if !results[i].Duplicate && len(req.ev.Destinations) > 0 && req.ev.Status != inbox.StatusQuarantined {
			db.recent.add(req.ev) // recent.go: the forwarder reads it from memory
		}
	}
	// Wake the forwarder first, so that anyone answered can rely on it.
	if st.queued {
		db.signalWake()
	}
	for i, req := range reqs {
		req.done <- inbox.Answer{Result: results[i]}
	}
}

// failOne answers a batch whose delivery i could not be staged. A fault
// of the store fails the whole batch. A refusal of that delivery's own
// entries fails it alone: what it staged before the refusal is in txn,
// so the batch is built again without it.
func (db *DB) failOne(txn *badger.Txn, reqs []*acceptReq, i int, err error) {
	txn.Discard()
	if errors.As(err, new(storeFault)) {
		db.log.WithField("error", firstLine(err)).Error("accept batch failed")
		replyAll(reqs, fmt.Errorf("accept: %w: %w", inbox.ErrNotDurable, err))
		return
	}
	db.log.WithField("error", firstLine(err)).Error("accept: delivery refused by the store; committing its batch without it")
	reqs[i].done <- inbox.Answer{Err: fmt.Errorf("accept: %w: %s", inbox.ErrNotDurable, firstLine(err))}
	db.commitTxn(append(reqs[:i:i], reqs[i+1:]...))
}

// acceptOne stages one delivery in txn.
func (db *DB) acceptOne(txn *badger.Txn, st *batchState, ev *inbox.Event) (inbox.Result, error) {
	for _, k := range ev.DedupKeys {
		first, err := db.dedupHolder(txn, ev.Source, k, true)
		if err != nil {
			return inbox.Result{}, storeFault{err}
		}
		if first == "" {
			continue
		}
		if err := recordSighting(txn, first, ev, k, st.now); err != nil {
			return inbox.Result{}, err
		}
		cp, err := inbox.DuplicateCopy(ev, k, first, func(bk string) (bool, error) {
			id, err := db.dedupHolder(txn, ev.Source, bk, true)
			return id != "", err
		})
		if err != nil {
			return inbox.Result{}, storeFault{err}
		}
		if cp != nil {
			if err := db.archive(txn, st, cp); err != nil {
				return inbox.Result{}, err
			}
		}
		return inbox.Result{ID: first, Duplicate: true}, nil
	}
	if err := db.archive(txn, st, ev); err != nil {
		return inbox.Result{}, err
	}
	return inbox.Result{ID: ev.ID}, nil
}

// dedupHolder returns the id of the event holding dedup key k of source,
// "" when none does. While keys an older store wrote as text (a long one
// unbounded, before keys were bounded) may still be in the window, the
// key is also looked up in those forms. Only the accept writer passes
// filtered: the dedup filter, which answers most lookups of keys never
// stored without Badger, is the writer's alone.
func (db *DB) dedupHolder(txn *badger.Txn, source, k string, filtered bool) (string, error) {
	id, err := db.holder(txn, dedupKey(source, k), filtered)
	if id != "" || err != nil || !time.Now().Before(db.textKeysUntil.Add(expiryMargin)) {
		return id, err
	}
	if id, err := db.holder(txn, textDedupKey(source, k), filtered); id != "" || err != nil {
		return id, err
	}
	if lk, ok := legacyDedupKey(source, k); ok {
		return db.holder(txn, lk, filtered)
	}
	return "", nil
}

// holder reads the event id stored at dedup key dk, "" when there is none.
func (db *DB) holder(txn *badger.Txn, dk []byte, filtered bool) (string, error) {
	if filtered && !db.dedup.mayHave(dk) {
		return "", nil // never stored: no need to ask Badger
	}
	item, err := txn.Get(dk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("dedup %.600q: %w", dk, err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return "", fmt.Errorf("dedup %.600q: %w", dk, err)
	}
	return string(v), nil
}

// archive stages a new event: metadata, body, indexes, dedup keys, chain
// head and outbox entries.
func (db *DB) archive(txn *badger.Txn, st *batchState, ev *inbox.Event) error {
	ms := max(st.lastMs, ulid.Timestamp(ev.ReceivedAt))
	id, err := ulid.New(ms, db.entropy)
	if err != nil {
		return storeFault{fmt.Errorf("new event id: %w", err)}
	}
	st.lastMs = ms
	inbox.Prepare(ev)
	ev.ID = id.String()
	ev.Seq = st.head.Seq + 1
	ev.PrevHash = st.head.Hash
	ev.Hash = inbox.ChainHash(ev)
	rec, err := encodeRecord(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if err := txn.Set(eventKey(ev.ID), rec); err != nil {
		return fmt.Errorf("store event: %w", err)
	}
	for _, k := range indexKeys(ev) {
		if err := txn.Set(k, nil); err != nil {
			return fmt.Errorf("store index: %w", err)
		}
	}
	holder, ttl := ev.ID, db.opt.DedupWindow
	if ev.DuplicateOf != "" {
		// A duplicate's copy claims its bytes for the event it duplicates,
		// until that event's keys leave the window.
		holder, ttl = ev.DuplicateOf, max(inbox.DedupExpiry(ev, st.now, ttl).Sub(st.now), time.Second)
	}
	for _, k := range ev.DedupKeys {
		dk := dedupKey(ev.Source, k)
		db.dedup.add(dk)
		e := badger.NewEntry(dk, []byte(holder)).WithTTL(ttl)
		if err := txn.SetEntry(e); err != nil {
			return fmt.Errorf("store dedup key: %w", err)
		}
	}
	if err := enqueue(txn, ev, st.now); err != nil {
		return err
	}
	st.queued = st.queued || len(ev.Destinations) > 0
	st.head = chainHead{Seq: ev.Seq, Hash: ev.Hash, ID: ev.ID}
	return nil
}

// storeFault marks an error of the store rather than of one delivery
// (a failed read, say): it fails the whole batch, since building the
// batch again without the delivery would meet it again.
type storeFault struct{ error }

func (e storeFault) Unwrap() error { return e.error }

// firstLine is the first line of err's message: Badger's size errors go
// on with a hex dump of the key or value, which is payload data and
// stays out of the log.
func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// recordSighting counts a duplicate delivery on the event it duplicates.
func recordSighting(txn *badger.Txn, id string, dup *inbox.Event, key string, now time.Time) error {
	var s inbox.Sightings
	if err := getJSON(txn, sightingsKey(id), &s); err != nil && !errors.Is(err, inbox.ErrNotFound) {
		return storeFault{err}
	}
	if s.Count == 0 {
		s.First = now
	}
	s.Count++
	s.Last = now
	s.Recent = append(s.Recent, inbox.Sighting{
		At: now, RemoteAddr: dup.RemoteAddr, RequestID: dup.RequestID,
		BodySHA256: dup.BodySHA256, DedupKey: inbox.BoundKey(key),
	})
	if n := len(s.Recent); n > inbox.MaxRecentSightings {
		s.Recent = s.Recent[n-inbox.MaxRecentSightings:]
	}
	return putJSON(txn, sightingsKey(id), s)
}

func putJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := txn.Set(key, b); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// getJSON decodes the value at key into v, or returns ErrNotFound.
func getJSON(txn *badger.Txn, key []byte, v any) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return inbox.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	return item.Value(func(b []byte) error {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		return nil
	})
}
