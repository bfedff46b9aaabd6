package badger

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// Verify recomputes the archive chain from the retention checkpoint (or
// genesis) to the head: every event's seq and prev_hash follow its
// predecessor, its raw body hashes to its body_sha256, and its metadata
// hashes to its hash; and the last event is the recorded chain head. It
// stops at the first break and names it. An error means the check could
// not run, not that the chain is broken.
func (db *DB) Verify(ctx context.Context) (inbox.VerifyReport, error) {
	for attempt := 0; ; attempt++ {
		rep, cp, err := db.verifyOnce(ctx)
		if err != nil || rep.OK || attempt == 2 {
			return rep, err
		}
		// Retention may have removed events under a running check: that
		// is no break if the checkpoint moved. Check again from it.
		var now chainHead
		err = db.bdb.View(func(txn *badger.Txn) error { return getJSON(txn, []byte(keyCheckpoint), &now) })
		if err != nil && !errors.Is(err, inbox.ErrNotFound) {
			return inbox.VerifyReport{}, fmt.Errorf("verify: %w", err)
		}
		if now.Seq == cp.Seq {
			return rep, nil
		}
	}
}

// verifyOnce is one pass of Verify, and the checkpoint it started from.
func (db *DB) verifyOnce(ctx context.Context) (inbox.VerifyReport, chainHead, error) {
	var cp, head chainHead
	err := db.bdb.View(func(txn *badger.Txn) error {
		if err := getJSON(txn, []byte(keyCheckpoint), &cp); err != nil && !errors.Is(err, inbox.ErrNotFound) {
			return err
		}
		if err := getJSON(txn, []byte(keyHead), &head); err != nil && !errors.Is(err, inbox.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return inbox.VerifyReport{}, cp, fmt.Errorf("verify: %w", err)
	}
	start := cp
	if start.Hash == "" {
		start.Hash = inbox.GenesisHash
	}
	c := inbox.NewChainCheck(start.Seq, start.Hash)
	err = db.Export(ctx, inbox.IDTime(cp.ID), zeroTime, func(r inbox.Record) error {
		if r.Seq <= cp.Seq {
			return nil // the checkpoint's own millisecond
		}
		if c.Next(r.Event, r.Body) != nil {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return inbox.VerifyReport{}, cp, fmt.Errorf("verify: %w", err)
	}
	return c.ReportTo(head.Seq, head.ID), cp, nil
}

// errStop ends the walk at the first break.
var errStop = errors.New("stop")
