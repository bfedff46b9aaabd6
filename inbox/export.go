package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Record is one line of an archive export: the event's metadata with its
// chain fields, and the raw body (base64 in JSON). It carries everything
// VerifyExport needs, so an export can be checked without the server.
type Record struct {
	*Event
	Body []byte `json:"body"`
}

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
func (db *DB) Export(ctx context.Context, since, until time.Time, fn func(Record) error) error {
	lo, hi := "", ""
	if !since.IsZero() {
		lo = idAt(since)
	}
	if !until.IsZero() {
		hi = idAt(until)
	}
	for {
		recs, err := db.exportChunk(lo, hi)
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
		if len(recs) == 0 {
			return nil
		}
		lo = recs[len(recs)-1].ID + "\x00" // just after the last one
	}
}

// exportChunk reads the next chunk of events with ids in [lo, hi).
func (db *DB) exportChunk(lo, hi string) ([]Record, error) {
	var out []Record
	size := 0
	err := db.bdb.View(func(txn *badger.Txn) error {
		return walkEvents(txn, lo, hi, func(e *Event) (bool, error) {
			b, err := getBody(txn, e.ID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return false, err
			}
			out = append(out, Record{Event: e, Body: b})
			size += len(b)
			return len(out) < exportChunk && size < exportChunkBytes, nil
		})
	})
	return out, err
}

// walkEvents decodes events with ids in [lo, hi), oldest first, until fn
// says stop.
func walkEvents(txn *badger.Txn, lo, hi string, fn func(*Event) (bool, error)) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxEvent), PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Seek([]byte(pfxEvent + lo)); it.Valid(); it.Next() {
		key := it.Item().Key()
		if hi != "" && string(key[len(pfxEvent):]) >= hi {
			return nil
		}
		e := new(Event)
		if err := it.Item().Value(func(b []byte) error { return jsonUnmarshal(b, e) }); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		more, err := fn(e)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// getBody reads the raw body of event id in txn, or ErrNotFound.
func getBody(txn *badger.Txn, id string) ([]byte, error) {
	item, err := txn.Get(bodyKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read body %s: %w", id, err)
	}
	return item.ValueCopy(nil)
}
