package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// rejectBatch caps how many rejections share one transaction.
const rejectBatch = 256

// LogRejection records r in the bounded log of rejected and control
// requests, its headers bounded (inbox.BoundHeaders). It never blocks:
// entries go to this node's writer, and when a flood outruns it the
// excess is dropped and counted in RejectionsDropped.
func (db *DB) LogRejection(r inbox.Rejection) {
	r.Headers = inbox.BoundHeaders(r.Headers)
	select {
	case db.rejectCh <- &r:
	default:
		db.rejectDropped.Add(1)
	}
}

// RejectionsDropped counts entries this node dropped because its writer
// was behind.
func (db *DB) RejectionsDropped() uint64 { return db.rejectDropped.Load() }

// rejectLoop writes queued rejections in batches until Close, then
// writes whatever is still queued.
func (db *DB) rejectLoop() {
	defer close(db.rejectStopped)
	for {
		select {
		case r := <-db.rejectCh:
			db.writeRejections(db.fillRejections(r))
		case <-db.closing:
			for {
				select {
				case r := <-db.rejectCh:
					db.writeRejections(db.fillRejections(r))
				default:
					return
				}
			}
		}
	}
}

// rejectLinger is how long the rejection writer waits for more refusals
// to share a transaction. The log is best effort (a refused request
// promises nothing), so a flood of bad signatures is written in a few
// transactions a second, not one per request.
const rejectLinger = 50 * time.Millisecond

func (db *DB) fillRejections(first *inbox.Rejection) []*inbox.Rejection {
	return inbox.FillWithin(db.rejectCh, []*inbox.Rejection{first}, rejectBatch, rejectLinger, db.closing)
}

// writeRejections appends batch to the log and trims it to
// Options.RejectedLogSize entries and RejectedLogBytes bytes, oldest
// first. The log's totals row is locked first, so nodes append one at a
// time and seq order is commit order. The log is evidence, not a
// promise: a failed write is logged and the batch let go.
func (db *DB) writeRejections(batch []*inbox.Rejection) {
	ctx, cancel := readCtx()
	defer cancel()
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var entries, bytes int64
		if err := tx.QueryRow(ctx, `SELECT entries, bytes FROM rejection_log FOR UPDATE`).Scan(&entries, &bytes); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT nextval('rejections_seq') FROM generate_series(1, $1)`, len(batch))
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		slices.Sort(seqs)
		docs, sizes := make([]string, len(batch)), make([]int32, len(batch))
		for i, r := range batch {
			r.Seq = uint64(seqs[i])
			b, err := inbox.EncodeRejection(r)
			if err != nil {
				return err
			}
			docs[i], sizes[i] = string(b), int32(len(b))
			entries, bytes = entries+1, bytes+int64(len(b))
		}
		_, err = tx.Exec(ctx, `INSERT INTO rejections (seq, entry, size)
SELECT * FROM unnest($1::bigint[], $2::json[], $3::integer[])`, seqs, docs, sizes)
		if err != nil {
			return err
		}
		if entries, bytes, err = db.trimRejections(ctx, tx, entries, bytes); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE rejection_log SET entries = $1, bytes = $2`, entries, bytes)
		return err
	})
	if err != nil {
		db.log.WithField("error", err.Error()).Warn("write rejection log")
	}
}

// trimRejections deletes the oldest entries until the log is within its
// bounds, and returns its totals after.
func (db *DB) trimRejections(ctx context.Context, tx pgx.Tx, entries, bytes int64) (int64, int64, error) {
	over := func() bool { return entries > int64(db.opt.RejectedLogSize) || bytes > db.opt.RejectedLogBytes }
	for over() {
		rows, _ := tx.Query(ctx, `SELECT seq, size FROM rejections ORDER BY seq LIMIT 256`)
		old, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
			Seq  int64
			Size int32
		}])
		if err != nil {
			return entries, bytes, err
		}
		if len(old) == 0 { // the totals had drifted: the log is empty
			return 0, 0, nil
		}
		var drop []int64
		for _, o := range old {
			if !over() {
				break
			}
			drop, entries, bytes = append(drop, o.Seq), entries-1, bytes-int64(o.Size)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rejections WHERE seq = ANY($1)`, drop); err != nil {
			return entries, bytes, err
		}
	}
	return entries, bytes, nil
}

// Rejections returns up to limit entries of the rejection log, newest
// first, with Seq below before (0 means from the newest).
func (db *DB) Rejections(before uint64, limit int) ([]inbox.Rejection, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := readCtx()
	defer cancel()
	rows, _ := db.pool.Query(ctx, `SELECT entry FROM rejections WHERE ($1::bigint = 0 OR seq < $1)
ORDER BY seq DESC LIMIT $2`, seqBefore(before), limit)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (inbox.Rejection, error) {
		var r inbox.Rejection
		var b []byte
		if err := row.Scan(&b); err != nil {
			return r, err
		}
		return r, json.Unmarshal(b, &r)
	})
	if err != nil {
		return nil, fmt.Errorf("rejections: %w", err)
	}
	if len(out) == 0 {
		return nil, nil // as the Badger engine answers
	}
	return out, nil
}
