package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/porchgw/porch/inbox"
)

var errStop = errors.New("stop")

// Verify recomputes the archive chain from the retention checkpoint (or
// genesis) to the head, in seq order, as the Badger engine's Verify does: every
// event's seq and prev_hash follow its predecessor, its raw body hashes
// to its body_sha256, its metadata to its hash, and the chain reaches
// the recorded head. It stops at the first break and names it. An error
// means the check could not run, not that the chain is broken.
func (db *DB) Verify(ctx context.Context) (inbox.VerifyReport, error) {
	for attempt := 0; ; attempt++ {
		rep, cp, err := db.verifyOnce(ctx)
		if err != nil || rep.OK || attempt == 2 {
			return rep, err
		}
		// Retention (on any node) may have removed events under the
		// check: no break if the checkpoint moved. Check again from it.
		now, _, err := db.chainEnds(ctx)
		if err != nil {
			return inbox.VerifyReport{}, fmt.Errorf("verify: %w", err)
		}
		if now.seq == cp.seq {
			return rep, nil
		}
	}
}

// chainEnds reads the retention checkpoint and the chain head.
func (db *DB) chainEnds(ctx context.Context) (cp, head chainHead, err error) {
	var cs, hs int64
	err = db.pool.QueryRow(ctx, `SELECT c.seq, c.hash, c.event_id, h.seq, h.hash, h.event_id
FROM chain_checkpoint c, chain_head h`).Scan(&cs, &cp.hash, &cp.id, &hs, &head.hash, &head.id)
	cp.seq, head.seq = uint64(cs), uint64(hs)
	return cp, head, err
}

// verifyOnce is one pass of Verify, and the checkpoint it started from.
func (db *DB) verifyOnce(ctx context.Context) (inbox.VerifyReport, chainHead, error) {
	cp, head, err := db.chainEnds(ctx)
	if err != nil {
		return inbox.VerifyReport{}, cp, fmt.Errorf("verify: %w", err)
	}
	c := inbox.NewChainCheck(cp.seq, cp.hash)
	err = db.walk(ctx, &filter{}, int64(cp.seq), func(r inbox.Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.Next(r.Event, r.Body) != nil {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return inbox.VerifyReport{}, cp, fmt.Errorf("verify: %w", err)
	}
	return c.ReportTo(head.seq, head.id), cp, nil
}
