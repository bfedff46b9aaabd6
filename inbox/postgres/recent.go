package postgres

import "github.com/oklog/ulid/v2"

// recentKeys remembers which event holds each dedup key this node's
// writer committed lately, the last recentKeysSize of them, so that the
// one-round-trip path can stage a provider's retry as a duplicate
// without asking the database first. It is a hint only: the sighting it
// leads to is written by insertSightingsChecked, which fails the batch
// unless the database holds the key for that event in the window. Only
// the writer goroutine uses it.
type recentKeys struct {
	held  map[recentKey]ulid.ULID
	order []recentKey // a ring: the oldest entry is overwritten next
	next  int
}

// recentKey is a dedup key by its source and the first half of its
// hash: a collision only makes the hint wrong, which the database
// catches.
type recentKey struct {
	source string
	hash   [16]byte
}

func keyOf(ref dedupRef) recentKey {
	return recentKey{source: ref.source, hash: [16]byte(ref.hash[:16])}
}

// recentKeysSize bounds the hint at about a megabyte; at a few thousand
// deliveries a second it covers the last few seconds, at an ordinary
// rate far longer.
const recentKeysSize = 16384

func newRecentKeys() *recentKeys {
	return &recentKeys{held: make(map[recentKey]ulid.ULID, recentKeysSize), order: make([]recentKey, 0, recentKeysSize)}
}

// get returns the event that holds ref, if ref is among the recent keys.
func (k *recentKeys) get(ref dedupRef) (string, bool) {
	id, ok := k.held[keyOf(ref)]
	if !ok {
		return "", false
	}
	return id.String(), true
}

// add records that event id holds ref, forgetting the oldest entry when
// full. An id that is not a ULID is not recorded.
func (k *recentKeys) add(ref dedupRef, id string) {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return
	}
	key := keyOf(ref)
	if _, ok := k.held[key]; ok {
		k.held[key] = u
		return
	}
	if len(k.order) < recentKeysSize {
		k.order = append(k.order, key)
	} else {
		delete(k.held, k.order[k.next])
		k.order[k.next] = key
		k.next = (k.next + 1) % recentKeysSize
	}
	k.held[key] = u
}

// addBatch records the keys a committed batch claimed.
func (k *recentKeys) addBatch(r *rows) {
	for i, id := range r.dkEvent {
		ref := dedupRef{source: r.dkSource[i]}
		copy(ref.hash[:], r.dkHash[i])
		k.add(ref, id)
	}
}

// reset forgets everything, after the database contradicted the hint.
func (k *recentKeys) reset() {
	clear(k.held)
	k.order, k.next = k.order[:0], 0
}
