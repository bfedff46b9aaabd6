package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/porchgw/porch/inbox"
)

// batchTimeout bounds one batch transaction, so a database that stops
// answering fails the batch (503s) instead of stalling the writer.
const batchTimeout = time.Minute

// maxTries bounds how often a batch is built again after the unique
// index found a dedup key held that the batch's lookup did not see.
const maxTries = 3

// errKeyHeld means a dedup key insert found the key held by an event in
// the window: the batch is built again from what is stored now.
var errKeyHeld = errors.New("dedup key held by another event")

// commitBatch writes reqs in one transaction and answers each. A
// delivery the database refuses (a constraint or data error) fails
// alone: the batch is split in halves, each committed apart, until the
// refused delivery is alone in its batch.
func (db *DB) commitBatch(reqs []*acceptReq) {
	var (
		st  *staged
		err error
	)
	for try := 1; try <= maxTries; try++ {
		st, err = db.tryBatch(reqs)
		if !errors.Is(err, errKeyHeld) {
			break
		}
		db.log.WithField("try", try).Warn("accept batch met a dedup key held elsewhere; building it again")
	}
	switch {
	case err == nil:
		if db.failing {
			db.failing = false
			db.log.Info("accept batches commit again")
		}
		st.answer(reqs)
	case rowError(err) && len(reqs) > 1:
		db.commitBatch(reqs[:len(reqs)/2])
		db.commitBatch(reqs[len(reqs)/2:])
	case rowError(err):
		db.log.WithField("error", err.Error()).Error("accept: delivery refused by the database; its batch-mates are committed without it")
		replyAll(reqs, fmt.Errorf("accept: %w: %w", inbox.ErrNotDurable, err))
	case !db.failing:
		db.failing = true
		db.log.WithField("error", err.Error()).Error("accept batch failed; deliveries get 503 until a batch commits again")
		replyAll(reqs, fmt.Errorf("accept: %w: %w", inbox.ErrNotDurable, err))
	default:
		db.log.WithField("error", err.Error()).Debug("accept batch failed")
		replyAll(reqs, fmt.Errorf("accept: %w: %w", inbox.ErrNotDurable, err))
	}
}

// rowError reports whether err is the database refusing one row's data
// (SQLSTATE classes 22 data exception, 23 integrity constraint
// violation, 54 program limit exceeded), rather than a fault of the
// connection or the server.
func rowError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

// staged is a batch's outcome, handed to the callers once committed.
type staged struct {
	results []inbox.Result
	events  []*inbox.Event // the stored form of each new event; nil for duplicates
}

// answer gives each caller its result, and a new event's caller the
// fields Accept sets.
func (st *staged) answer(reqs []*acceptReq) {
	for i, req := range reqs {
		if e := st.events[i]; e != nil {
			*req.ev = *e
		}
		req.done <- inbox.Answer{Result: st.results[i]}
	}
}

// chainHead is the newest link of the chain.
type chainHead struct {
	seq  uint64
	hash string
	id   string
}

// dedupRef identifies a dedup key: the source and the SHA-256 of the
// key's exact bytes.
type dedupRef struct {
	source string
	hash   [sha256.Size]byte
}

func refOf(source, key string) dedupRef {
	return dedupRef{source: source, hash: sha256.Sum256([]byte(key))}
}

// tryBatch is one go at a batch, in two round trips on one connection:
// the first begins the transaction, locks the chain head and looks up
// every dedup key of the batch; the second sends all writes and the
// COMMIT. An error anywhere in the second makes the server skip the rest
// of it, COMMIT included, so nothing of a failed batch is committed.
func (db *DB) tryBatch(reqs []*acceptReq) (*staged, error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer conn.Release() // the pool drops a connection still in a transaction
	defer rollback(ctx, conn.Conn())
	now := db.opt.Now()
	if db.last != nil && !now.Before(db.fastAfter) {
		st, err := db.tryFast(ctx, conn.Conn(), reqs, *db.last, now)
		switch {
		case err == nil:
			return st, nil
		case errors.Is(err, errHeadMoved):
			// Another node is writing: its batches would move the head
			// under most of ours, so take the lock first for a while.
			db.fastAfter = now.Add(fastPause)
		case errors.Is(err, errStaleHint):
			db.recent.reset()
		case !errors.Is(err, errKeyHeld):
			return nil, err
		}
		rollback(ctx, conn.Conn())
	}
	head, held, expired, err := lockAndLookup(ctx, conn.Conn(), reqs, now)
	if err != nil {
		return nil, err
	}
	st, r, err := db.stage(reqs, held, &head, now, false)
	if err != nil {
		return nil, err
	}
	b := r.batch(expired)
	b.Queue(`UPDATE chain_head SET seq = $1, hash = $2, event_id = $3`, int64(head.seq), head.hash, head.id)
	if err := db.commitRows(ctx, conn.Conn(), b, r, head); err != nil {
		return nil, err
	}
	return st, nil
}

// commitRows ends b, which writes r and moves the chain head to head,
// with the wake-up for the dispatchers (when r queues deliveries) and
// COMMIT, sends it, and once it is committed records head as the newest
// link this node knows and r's keys as recent.
func (db *DB) commitRows(ctx context.Context, conn *pgx.Conn, b *pgx.Batch, r *rows, head chainHead) error {
	queued := len(r.obEvent) > 0
	if queued {
		b.Queue(notifySQL, db.channel) // wakes every node's dispatcher at COMMIT
	}
	b.Queue(`COMMIT`)
	if err := send(ctx, conn, b); err != nil {
		return err
	}
	db.last = &head
	db.recent.addBatch(r)
	if queued {
		db.signalWake()
	}
	return nil
}

// errStaleHint means a delivery the fast path staged as a duplicate,
// by recentKeys, is not one by what the database holds now.
var errStaleHint = errors.New("recent dedup key no longer held")

// fastPause is how long a node that found the chain head moved by
// another node takes the locked path before trying the fast one again.
const fastPause = time.Second

// errHeadMoved means the chain head was not the one the fast path
// built its batch on: another node (or anything else) extended the
// chain since this node's last batch.
var errHeadMoved = errors.New("chain head moved")

// advanceHead moves the chain head from ($1, $2) to ($3, $4, $5), or
// fails on chain_head's CHECK (one) when the head is no longer ($1, $2):
// the SET sees the row as it is once the row lock is granted, so a
// batch another node committed meanwhile is caught here, before any of
// this batch's rows are written. Without a head row at all (deleted by
// hand) the INSERT of a row failing the same CHECK fails the batch, and
// the locked path then says the head is missing.
const advanceHead = `WITH moved AS (
  UPDATE chain_head SET one = (seq = $1 AND hash = $2), seq = $3, hash = $4, event_id = $5 RETURNING 1)
INSERT INTO chain_head (one, seq, hash, event_id) SELECT false, 0, '', '' WHERE NOT EXISTS (SELECT FROM moved)`

// tryFast is a batch in one round trip, for a node that committed the
// newest link itself: it stages the batch on that link as if none of its
// dedup keys were stored, then sends BEGIN, the head's advance, the
// writes and COMMIT together. The head's advance fails the transaction
// if another batch extended the chain since (errHeadMoved), and the
// dedup key insert fails it if a key is stored already, held or
// expired (errKeyHeld); either way nothing is written and the caller
// takes the locked path, which looks the keys up.
func (db *DB) tryFast(ctx context.Context, conn *pgx.Conn, reqs []*acceptReq, head chainHead, now time.Time) (*staged, error) {
	from := head
	held := make(map[dedupRef]string)
	for _, req := range reqs {
		for _, k := range req.ev.DedupKeys {
			ref := refOf(req.ev.Source, k)
			if id, ok := db.recent.get(ref); ok {
				held[ref] = id
			}
		}
	}
	st, r, err := db.stage(reqs, held, &head, now, true)
	if err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(advanceHead, int64(from.seq), from.hash, int64(head.seq), head.hash, head.id)
	b.QueuedQueries = append(b.QueuedQueries, r.batch(nil).QueuedQueries...)
	if err := db.commitRows(ctx, conn, b, r, head); err != nil {
		return nil, err
	}
	db.fastDone.Add(1)
	return st, nil
}

// rollback ends a transaction a failed batch left open, so the
// connection goes back to the pool; a connection that cannot answer is
// dropped by the pool instead.
func rollback(ctx context.Context, conn *pgx.Conn) {
	if pc := conn.PgConn(); !pc.IsClosed() && pc.TxStatus() != 'I' {
		conn.Exec(ctx, `ROLLBACK`)
	}
}

// holdersSQL finds the stored row of each dedup key, live or expired,
// by one primary-key probe per key, whatever the planner's statistics
// say about a table that starts empty and grows by thousands of rows a
// minute. OFFSET 0 keeps the LATERAL subquery a subquery: pulled up into
// a plain join, it was planned as a hash join over a sequential scan of
// the whole table, once per batch.
const holdersSQL = `
SELECT d.source, d.key_hash, d.event_id, d.expires_at > $3
FROM unnest($1::text[], $2::bytea[]) AS k (source, key_hash)
CROSS JOIN LATERAL (
  SELECT source, key_hash, event_id, expires_at FROM dedup_keys
  WHERE source = k.source AND key_hash = k.key_hash OFFSET 0) AS d`

// lockAndLookup begins the batch's transaction, locks the chain head and
// returns it, with the event holding each dedup key of reqs that is in
// the window and the keys stored but out of it, all in one round trip.
// The lookup runs after the lock is granted, so it sees every batch
// committed before.
func lockAndLookup(ctx context.Context, conn *pgx.Conn, reqs []*acceptReq, now time.Time) (head chainHead, held map[dedupRef]string, expired []dedupRef, err error) {
	var sources []string
	var hashes [][]byte
	for _, req := range reqs {
		for _, k := range req.ev.DedupKeys {
			r := refOf(req.ev.Source, k)
			sources, hashes = append(sources, r.source), append(hashes, r.hash[:])
		}
	}
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SELECT seq, hash, event_id FROM chain_head FOR UPDATE`)
	if len(sources) > 0 {
		b.Queue(holdersSQL, sources, hashes, now)
	}
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return head, nil, nil, fmt.Errorf("begin: %w", err)
	}
	if err := br.QueryRow().Scan(&head.seq, &head.hash, &head.id); err != nil {
		return head, nil, nil, fmt.Errorf("lock chain head: %w", err)
	}
	held = make(map[dedupRef]string)
	if len(sources) > 0 {
		rows, err := br.Query()
		if err != nil {
			return head, nil, nil, fmt.Errorf("dedup lookup: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r dedupRef
			var h []byte
			var id string
			var live bool
			if err := rows.Scan(&r.source, &h, &id, &live); err != nil {
				return head, nil, nil, fmt.Errorf("dedup lookup: %w", err)
			}
			copy(r.hash[:], h)
			if live {
				held[r] = id
			} else {
				expired = append(expired, r)
			}
		}
		if err := rows.Err(); err != nil {
			return head, nil, nil, fmt.Errorf("dedup lookup: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return head, nil, nil, fmt.Errorf("dedup lookup: %w", err)
	}
	return head, held, expired, nil
}
