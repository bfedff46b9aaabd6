package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// pruneBatch is how many events one retention transaction removes at
// most.
const pruneBatch = 200

// Prune removes the events archived before cutoff, oldest first, with
// everything hanging off them (enrichments and sightings by their event
// ids, dedup keys by their hashes, delivery states, history and dead
// letters by ON DELETE CASCADE), pruneBatch events per transaction. It only ever removes a prefix of the chain, in seq
// order, and saves the newest removed link (seq, hash, id) as the chain
// checkpoint in the same transaction, so the chain stays verifiable from
// there. It stops at the first old event with a delivery still pending
// (HeldBy) and resumes there on a later pass, once it is settled.
func (db *DB) Prune(cutoff time.Time) (inbox.PruneReport, error) {
	return db.prune(db.ctx, cutoff)
}

// prune is Prune under ctx: it stops between batches, and its batch in
// flight fails, once ctx ends (a node that lost leadership for retention
// prunes no further).
func (db *DB) prune(ctx context.Context, cutoff time.Time) (inbox.PruneReport, error) {
	var rep inbox.PruneReport
	for {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("prune: %w", err)
		}
		n, err := db.pruneOnce(ctx, cutoff, &rep)
		if err != nil {
			return rep, fmt.Errorf("prune: %w", err)
		}
		rep.Removed += n
		if rep.HeldBy != "" || n < pruneBatch {
			return rep, nil
		}
	}
}

// pruneOnce removes up to pruneBatch events in one transaction.
func (db *DB) pruneOnce(ctx context.Context, cutoff time.Time, rep *inbox.PruneReport) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	removed := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		removed, rep.HeldBy = 0, ""
		cp, err := checkpoint(ctx, tx)
		if err != nil {
			return err
		}
		rep.Checkpoint = cp.seq
		links, err := oldPrefix(ctx, tx, cp.seq, cutoff)
		if err != nil || len(links) == 0 {
			return err
		}
		// A statement of its own, so it sees what committed while it
		// waited for the locks.
		var held int64
		var heldID string
		err = tx.QueryRow(ctx, `SELECT seq, event_id FROM outbox WHERE seq > $1 AND seq <= $2
ORDER BY seq LIMIT 1`, int64(cp.seq), int64(links[len(links)-1].seq)).Scan(&held, &heldID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			rep.HeldBy = heldID
			for len(links) > 0 && int64(links[len(links)-1].seq) >= held {
				links = links[:len(links)-1]
			}
			if len(links) == 0 {
				return nil
			}
		}
		last := links[len(links)-1]
		if err := deleteKeys(ctx, tx, cp.seq, last.seq); err != nil {
			return err
		}
		for _, table := range []string{"enrichments", "sightings"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE event_id IN (SELECT id FROM events WHERE seq > $1 AND seq <= $2)`,
				int64(cp.seq), int64(last.seq)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM events WHERE seq > $1 AND seq <= $2`, int64(cp.seq), int64(last.seq)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO chain_checkpoint (seq, hash, event_id) VALUES ($1, $2, $3)
ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, event_id = excluded.event_id`,
			int64(last.seq), last.hash, last.id)
		removed, rep.Checkpoint = len(links), last.seq
		return err
	})
	return removed, err
}

// oldPrefix locks and returns the links of the oldest events after the
// checkpoint seq, up to pruneBatch, that were received before cutoff,
// stopping at the first that was not. Locking them (FOR UPDATE) waits
// out any replay holding one (FOR SHARE), so a pending delivery cannot
// appear after the caller's check.
func oldPrefix(ctx context.Context, tx pgx.Tx, after uint64, cutoff time.Time) ([]chainHead, error) {
	rows, err := tx.Query(ctx, `SELECT seq, hash, id, received_ns < $2 FROM events WHERE seq > $1
ORDER BY seq LIMIT $3 FOR UPDATE`, int64(after), cutoff.UnixNano(), pruneBatch)
	if err != nil {
		return nil, err
	}
	var links []chainHead
	var l chainHead
	var seq int64
	var old, young bool
	_, err = pgx.ForEachRow(rows, []any{&seq, &l.hash, &l.id, &old}, func() error {
		if young = young || !old; !young {
			l.seq = uint64(seq)
			links = append(links, l)
		}
		return nil
	})
	return links, err
}

// checkpoint is the link retention last removed: seq 0 and the genesis
// hash when none was.
func checkpoint(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (chainHead, error) {
	cp := chainHead{hash: inbox.GenesisHash}
	var seq int64
	err := q.QueryRow(ctx, `SELECT seq, hash, event_id FROM chain_checkpoint`).Scan(&seq, &cp.hash, &cp.id)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, nil
	}
	if err != nil {
		return cp, fmt.Errorf("read chain checkpoint: %w", err)
	}
	cp.seq = uint64(seq)
	return cp, nil
}

// Checkpoint returns the chain link retention last removed: seq 0 and
// inbox.GenesisHash when nothing was ever removed.
func (db *DB) Checkpoint() (seq uint64, hash string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	cp, err := checkpoint(ctx, db.pool)
	return cp.seq, cp.hash, err
}

// retentionLoop prunes events older than Options.Retention, at once and
// then every Options.RetentionInterval, on whichever node leads for
// "retention", until Close. A pass stops as soon as this node no longer
// leads.
func (db *DB) retentionLoop() {
	defer db.wg.Done()
	db.Lead(db.ctx, "retention", func(ctx context.Context) error {
		t := time.NewTicker(db.opt.RetentionInterval)
		defer t.Stop()
		for {
			rep, err := db.prune(ctx, db.opt.Now().Add(-db.opt.Retention))
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil:
				db.log.WithField("error", err.Error()).Warn("archive retention pass failed")
			case rep.Removed > 0 || rep.HeldBy != "":
				db.log.WithField("removed", rep.Removed).WithField("held_by", rep.HeldBy).Info("archive retention pass")
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
}

// deleteKeys removes the dedup keys still held by the events after seq
// from and up to to. A key's row is found by its primary key, the SHA-256
// of the key as the event lists it. A listed key showing U+FFFD may have
// held a NUL or a byte of invalid UTF-8 there, which the archive stores
// replaced, so its hash may not be the row's: when its probe removes
// nothing, its event's rows are found by event id instead, reading the
// whole table, which only such keys ever cost.
func deleteKeys(ctx context.Context, tx pgx.Tx, from, to uint64) error {
	// A duplicate's copy holds its key for the event it duplicates.
	rows, err := tx.Query(ctx, `SELECT COALESCE(duplicate_of, id), source, dedup_keys FROM events WHERE seq > $1 AND seq <= $2`, int64(from), int64(to))
	if err != nil {
		return err
	}
	var sources, ids []string
	var hashes [][]byte
	unsure := make(map[dedupRef]string) // a repaired-looking key: the event listing it
	var id, source string
	var listed []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &source, &listed}, func() error {
		var keys []string
		if err := json.Unmarshal(listed, &keys); err != nil {
			return fmt.Errorf("event %s: dedup keys: %w", id, err)
		}
		for _, k := range keys {
			ref := refOf(source, k)
			sources, hashes, ids = append(sources, ref.source), append(hashes, ref.hash[:]), append(ids, id)
			if strings.ContainsRune(k, utf8.RuneError) {
				unsure[ref] = id
			}
		}
		return nil
	})
	if err != nil || len(sources) == 0 {
		return err
	}
	rows, err = tx.Query(ctx, `DELETE FROM dedup_keys AS d
USING unnest($1::text[], $2::bytea[], $3::text[]) AS k (source, key_hash, event_id)
WHERE d.source = k.source AND d.key_hash = k.key_hash AND d.event_id = k.event_id
RETURNING d.source, d.key_hash`, sources, hashes, ids)
	if err != nil {
		return err
	}
	var gone []byte
	_, err = pgx.ForEachRow(rows, []any{&source, &gone}, func() error {
		ref := dedupRef{source: source}
		copy(ref.hash[:], gone)
		delete(unsure, ref)
		return nil
	})
	if err != nil || len(unsure) == 0 {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM dedup_keys WHERE event_id = ANY($1)`, slices.Collect(maps.Values(unsure)))
	return err
}
