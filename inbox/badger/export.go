package badger

import (
	"context"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// One read transaction covers at most exportChunk events or
// exportChunkBytes of raw bodies, so a long export neither pins an old
// snapshot nor holds much in memory.
const (
	exportChunk      = 256
	exportChunkBytes = 4 << 20
)

// Export calls fn for every archived event in [since, until) (zero means
// unbounded), oldest first, which is chain order. Events are read a chunk
// at a time; fn may write each one out and forget it.
func (db *DB) Export(ctx context.Context, since, until time.Time, fn func(inbox.Record) error) error {
	return db.ExportMatching(ctx, inbox.Query{Since: since, Until: until}, fn)
}

// ExportMatching is Export of the events that match q's filters (its
// Limit and Cursor are ignored), read from the archive in chain order:
// only matching events' bodies are read. Unless q filters by time alone,
// the records are not a contiguous part of the chain, so VerifyExport
// reports a gap at the first record that does not follow its
// predecessor.
func (db *DB) ExportMatching(ctx context.Context, q inbox.Query, fn func(inbox.Record) error) error {
	q.Cursor = ""
	asStored(&q)
	lo, hi, err := bounds(&q)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for {
		recs, next, err := db.exportChunk(&q, lo, hi)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, r := range recs {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		lo = next
	}
}

// exportChunk reads the next chunk of events with ids in [lo, hi) that
// match q, and the lo of the chunk after it ("" at the end). It stops
// after exportChunk records, exportChunkBytes of bodies, or
// exportChunk*16 events read, so a sparse filter does not pin one
// snapshot for the whole archive either.
func (db *DB) exportChunk(q *inbox.Query, lo, hi string) (out []inbox.Record, next string, err error) {
	size, read := 0, 0
	err = db.bdb.View(func(txn *badger.Txn) error {
		wanted := func(e *inbox.Event) bool { return match(q, e) }
		return walkEvents(txn, lo, hi, wanted, func(e *inbox.Event, b []byte) (bool, error) {
			read++
			next = e.ID + "\x00" // just after the last one read
			if !wanted(e) {
				return read < exportChunk*16, nil
			}
			out = append(out, inbox.Record{Event: e, Body: b})
			size += len(b)
			return len(out) < exportChunk && size < exportChunkBytes && read < exportChunk*16, nil
		})
	})
	return out, next, err
}

// walkEvents decodes events with ids in [lo, hi), oldest first, until fn
// says stop. fn gets the body of each event wantBody (nil: none) asks
// for, and nil for the others. Values are not prefetched: records hold
// bodies, and a walk holds one at a time.
func walkEvents(txn *badger.Txn, lo, hi string, wantBody func(*inbox.Event) bool, fn func(*inbox.Event, []byte) (bool, error)) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxEvent)})
	defer it.Close()
	for it.Seek([]byte(pfxEvent + lo)); it.Valid(); it.Next() {
		item := it.Item()
		if hi != "" && string(item.Key()[len(pfxEvent):]) >= hi {
			return nil
		}
		e := new(inbox.Event)
		body, err := readRecord(txn, item, e, wantBody)
		if err != nil {
			return err
		}
		more, err := fn(e, body)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
