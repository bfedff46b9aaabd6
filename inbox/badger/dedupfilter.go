package badger

import (
	"hash/maphash"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// dedupFilter remembers, approximately, every dedup key the store holds,
// so that the accept writer can skip Badger's lookup (every memtable, then
// a table per level) of a key it has certainly never stored. Most
// deliveries are new, so this buys ingest throughput and a lower ack p99.
//
// It is a Bloom filter in stages: a key it has been given always answers
// "maybe", a key it has not answers "no" except for about one in two
// hundred per stage, and "maybe" means asking Badger, as before.
// Correctness rests on one invariant: every live d/ key in the store was
// added to a stage still kept. Open adds every d/ key it finds before the
// writer starts; the accept writer, the only writer of d/ keys, adds each
// as it stages it (a batch that then fails only leaves extra "maybe"s); and
// a stage is dropped only when every key in it has expired in Badger (a
// dedup window after it was written; keys found at Open when Badger says
// they expire). A key the filter skips is also left out of Badger's
// conflict read set; only the writer writes d/ keys, so nothing could
// conflict on it. Only the writer goroutine uses the filter after Open.
//
// Memory is bounded by maxFilterBytes: past it the newest stage takes more
// keys than it was sized for, so more lookups answer "maybe" and go to
// Badger; nothing else changes. At about 11 bits a key the bound holds six
// million keys at the designed rate.
type dedupFilter struct {
	seed   maphash.Seed
	window time.Duration    // Badger's TTL on d/ keys; 0 = they never expire
	now    func() time.Time // the wall clock, which Badger's TTLs follow
	stages []*bloomStage    // oldest first; the last takes new keys
	words  int              // 64-bit words across stages
}

// bloomStage is one fixed-size Bloom filter sized for cap keys at about
// 0.5 % false positives. When it is full the next stage is twice as big
// (within maxFilterBytes), so the filter never needs the keys again to
// grow.
type bloomStage struct {
	bits    []uint64
	n       int       // keys added
	cap     int       // keys it is sized for
	expires time.Time // when the last of its keys expires in Badger
	forever bool      // one of its keys never expires
}

const (
	bloomBitsPerKey = 11 // ~0.5 % false positives with 8 hashes
	bloomHashes     = 8
	bloomMinCap     = 1 << 16
	maxFilterBytes  = 8 << 20
	expiryMargin    = time.Hour
)

func newDedupFilter(window time.Duration, now func() time.Time) *dedupFilter {
	return &dedupFilter{seed: maphash.MakeSeed(), window: window, now: now}
}

// add records key (a full d/ key) written now, which expires a dedup
// window later at the latest.
func (f *dedupFilter) add(key []byte) {
	now := f.now()
	f.addExpiring(key, now, now.Add(f.window), f.window <= 0)
}

// addExpiring records key, which Badger expires at expires (never, with
// forever).
func (f *dedupFilter) addExpiring(key []byte, now, expires time.Time, forever bool) {
	f.expire(now)
	if len(f.stages) == 0 || f.last().n >= f.last().cap {
		c := bloomMinCap
		if len(f.stages) > 0 {
			c = 2 * f.last().cap
		}
		if room := (maxFilterBytes/8 - f.words) * 64 / bloomBitsPerKey; c > room {
			c = room
		}
		if c >= bloomMinCap || len(f.stages) == 0 {
			f.stages = append(f.stages, newBloomStage(max(c, bloomMinCap)))
			f.words += len(f.last().bits)
		} // else: at the bound, the last stage takes more than it was sized for
	}
	s := f.last()
	s.add(maphash.Bytes(f.seed, key))
	s.forever = s.forever || forever
	if expires.After(s.expires) {
		s.expires = expires
	}
}

// expire drops the oldest stages once every key in them has expired in
// Badger, keeping the last (it takes new keys). The margin covers Badger's
// whole-second TTLs and the wall clock stepping back by up to an hour.
func (f *dedupFilter) expire(now time.Time) {
	for len(f.stages) > 1 && !f.stages[0].forever && now.After(f.stages[0].expires.Add(expiryMargin)) {
		f.words -= len(f.stages[0].bits)
		f.stages[0] = nil
		f.stages = f.stages[1:]
	}
}

// mayHave reports false only for a key never added.
func (f *dedupFilter) mayHave(key []byte) bool {
	h := maphash.Bytes(f.seed, key)
	for _, s := range f.stages {
		if s.has(h) {
			return true
		}
	}
	return false
}

func (f *dedupFilter) last() *bloomStage { return f.stages[len(f.stages)-1] }

func newBloomStage(capacity int) *bloomStage {
	words := (capacity*bloomBitsPerKey + 63) / 64
	return &bloomStage{bits: make([]uint64, words), cap: capacity}
}

// Kirsch-Mitzenmacher: the probes are h1 + i*h2 over the two halves of
// one 64-bit hash, reduced modulo the stage's bit count.
func (s *bloomStage) add(h uint64) {
	h1, h2 := h&0xffffffff, h>>32|1
	m := uint64(len(s.bits)) * 64
	for i := range uint64(bloomHashes) {
		b := (h1 + i*h2) % m
		s.bits[b/64] |= 1 << (b % 64)
	}
	s.n++
}

func (s *bloomStage) has(h uint64) bool {
	h1, h2 := h&0xffffffff, h>>32|1
	m := uint64(len(s.bits)) * 64
	for i := range uint64(bloomHashes) {
		b := (h1 + i*h2) % m
		if s.bits[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// loadDedupFilter builds the filter from every live d/ key in the store,
// each kept until Badger expires it (a window set shorter since it was
// written does not shorten that). It also returns until when keys older
// stores wrote as text may be live: zero when there are none, far ahead
// when one never expires.
func loadDedupFilter(bdb *badger.DB, window time.Duration) (f *dedupFilter, textUntil time.Time, err error) {
	f = newDedupFilter(window, time.Now)
	now := f.now()
	err = bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxDedup)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			at := item.ExpiresAt()
			expires := time.Unix(int64(at), 0)
			if at == 0 {
				expires = now.AddDate(100, 0, 0)
			}
			f.addExpiring(item.Key(), now, expires, at == 0)
			if !hashedDedupKey(item.Key()) && expires.After(textUntil) {
				textUntil = expires
			}
		}
		return nil
	})
	return f, textUntil, err
}
