package inbox

import (
	"hash/maphash"

	badger "github.com/dgraph-io/badger/v4"
)

// dedupFilter remembers, approximately, every dedup key the store holds,
// so that the accept writer can skip Badger's lookup of a key it has
// certainly never stored. Most deliveries are new, and that lookup (every
// memtable, then a table per level) was 5 % of the gateway's CPU per ack.
//
// It is a scalable Bloom filter: a key it has been given always answers
// "maybe", a key it has not answers "no" except for about one in a
// hundred, and "maybe" means asking Badger, as before. Correctness rests
// on one invariant: every d/ key in the store was added, which holds
// because Open adds every d/ key it finds before the writer starts, and
// the accept writer, the only writer of d/ keys, adds each as it stages
// it (a batch that then fails only leaves extra "maybe"s). Expired keys
// stay in it until the next Open, answering "maybe", which Badger then
// answers "not found". Only the writer goroutine uses it after Open.
type dedupFilter struct {
	seed   maphash.Seed
	stages []*bloomStage // the last one takes new keys
}

// bloomStage is one fixed-size Bloom filter sized for cap keys at about
// 0.5 % false positives; when it is full the next stage is twice as big,
// so the filter never needs the keys again to grow.
type bloomStage struct {
	bits []uint64
	k    uint32 // hash functions
	n    int    // keys added
	cap  int
}

const (
	bloomBitsPerKey = 11 // ~0.5 % false positives with 8 hashes
	bloomHashes     = 8
	bloomMinCap     = 1 << 16
)

func newDedupFilter() *dedupFilter {
	return &dedupFilter{seed: maphash.MakeSeed()}
}

func newBloomStage(capacity int) *bloomStage {
	words := (capacity*bloomBitsPerKey + 63) / 64
	return &bloomStage{bits: make([]uint64, words), k: bloomHashes, cap: capacity}
}

// add records key (a full d/ key).
func (f *dedupFilter) add(key []byte) {
	if len(f.stages) == 0 || f.last().n >= f.last().cap {
		c := bloomMinCap
		if len(f.stages) > 0 {
			c = 2 * f.last().cap
		}
		f.stages = append(f.stages, newBloomStage(c))
	}
	f.last().add(maphash.Bytes(f.seed, key))
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

// Kirsch-Mitzenmacher: the k probes are h1 + i*h2 over the two halves of
// one 64-bit hash.
func (s *bloomStage) add(h uint64) {
	h1, h2 := uint32(h), uint32(h>>32)|1
	m := uint32(len(s.bits) * 64)
	for i := range s.k {
		b := (h1 + i*h2) % m
		s.bits[b/64] |= 1 << (b % 64)
	}
	s.n++
}

func (s *bloomStage) has(h uint64) bool {
	h1, h2 := uint32(h), uint32(h>>32)|1
	m := uint32(len(s.bits) * 64)
	for i := range s.k {
		b := (h1 + i*h2) % m
		if s.bits[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// loadDedupFilter builds the filter from every live d/ key in the store.
func loadDedupFilter(bdb *badger.DB) (*dedupFilter, error) {
	f := newDedupFilter()
	err := bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxDedup)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			f.add(it.Item().Key())
		}
		return nil
	})
	return f, err
}
