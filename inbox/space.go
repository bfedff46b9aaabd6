package inbox

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Badger writes its write-ahead log, value log and new tables through
// mmapped files that it creates sparse (truncated to size, not allocated).
// When the file system is full, a store into such a page faults (SIGBUS)
// and the Go runtime kills the whole process: porch would die instead of
// answering 503. So the writer refuses a batch, with ErrNotDurable, unless
// the data directory keeps a reserve free: room for two memtables (the
// rest of the current WAL, then its flush into a table, and a compaction
// step) plus a margin, plus twice the batch itself (WAL and value log).
// Nothing is written for a refused batch; once space returns (an operator
// frees some, or value-log GC reclaims it) deliveries are taken again.

// readyProbeBytes is the delivery size Ready checks there is room for: a
// store that could not take a typical delivery is not ready.
const readyProbeBytes = 64 << 10

// spaceMargin is added to the reserve on top of the memtables.
const spaceMargin = 4 << 20

// spaceReserve is the free space the writer keeps for Badger's own writes.
func spaceReserve(bo badger.Options) int64 {
	return 2*bo.MemTableSize + spaceMargin
}

// spaceFor reports whether n more bytes can be written safely: it wraps
// ErrNotDurable when the data directory's free space is below the
// reserve plus 2n. In-memory stores and file systems whose free space
// cannot be read are never refused.
func (db *DB) spaceFor(n int64) error {
	if db.opt.Dir == "" {
		return nil
	}
	free, ok := freeBytes(db.opt.Dir)
	if !ok {
		return nil
	}
	if need := db.reserve + 2*n; free < need {
		return fmt.Errorf("disk nearly full: %d bytes free in the data directory, %d needed: %w", free, need, ErrNotDurable)
	}
	return nil
}

// batchBytes estimates what a batch writes: bodies plus metadata.
func batchBytes(reqs []*acceptReq) int64 {
	var n int64
	for _, r := range reqs {
		n += int64(len(r.ev.Body)) + 2048
	}
	return n
}
