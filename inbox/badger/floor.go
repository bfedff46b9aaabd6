package badger

import (
	"math"
	"sync"
	"time"
)

// outboxFloor keeps Claim from re-reading the outbox's deleted past:
// settled entries leave tombstones at the head of o/ (keys sort by due
// time) that every scan would step over until compaction, thousands per
// scan under load, enough to make forwarding fall behind ingest. The
// floor is a due time at or before every live entry, claimed or not;
// Claim starts there instead of at the beginning.
//
// Writers lower it after each commit that queues an entry (lower). The
// scanner reads it before its snapshot (start) and afterwards raises it
// to the first live entry the snapshot showed, or to the lowest due time
// committed since start, whichever is earlier (finish): an entry
// committed after the snapshot was taken is either counted in low, or
// its writer lowers the floor again after finish.
type outboxFloor struct {
	scan sync.Mutex // one scanner at a time, from start to finish

	mu  sync.Mutex
	at  int64 // unix nanos
	low int64 // lowest due committed since start; MaxInt64 when none
}

// lower notes a committed outbox entry due at due.
func (f *outboxFloor) lower(due time.Time) {
	n := max(due.UnixNano(), 0) // keys hold uint64 nanos: nothing sorts before 0
	f.mu.Lock()
	f.at = min(f.at, n)
	f.low = min(f.low, n)
	f.mu.Unlock()
}

// start begins a scan (holding f.scan until finish or abort) and returns
// where it may begin.
func (f *outboxFloor) start() time.Time {
	f.scan.Lock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.low = math.MaxInt64
	return time.Unix(0, f.at)
}

// finish ends a scan whose snapshot's first live entry is due at first
// (ok false: the snapshot had none from the floor on).
func (f *outboxFloor) finish(first time.Time, ok bool) {
	n := int64(math.MaxInt64)
	if ok {
		n = first.UnixNano()
	}
	f.mu.Lock()
	f.at = min(n, f.low)
	f.mu.Unlock()
	f.scan.Unlock()
}

// abort ends a scan that failed, leaving the floor as it is.
func (f *outboxFloor) abort() { f.scan.Unlock() }
