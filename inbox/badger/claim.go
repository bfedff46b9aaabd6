package badger

import (
	"sync"
	"time"

	"github.com/porchgw/porch/inbox"
)

var _ inbox.Outbox = (*DB)(nil)

// claims are the outbox entries handed out by Claim and not yet settled
// or released, by "<id>/<destination>", with when each claim lapses. They
// live in memory: one process owns a Badger directory, and a restart
// ends every attempt it had under way.
type claims struct {
	// mu is held by Claim from reading the set until its scan is over,
	// and by every drop. A claim is dropped only after the commit that
	// settled its entry returned, and Claim opens its snapshot after
	// taking mu, so a snapshot that shows the entry still queued was taken
	// while the claim was still in the set, and the entry is skipped.
	mu sync.Mutex
	m  map[string]time.Time
}

func claimKey(id, dest string) string { return id + "/" + dest }

// held reports whether k is claimed at now. Callers hold c.mu.
func (c *claims) held(k string, now time.Time) (until time.Time, ok bool) {
	until, ok = c.m[k]
	return until, ok && now.Before(until)
}

// forget removes the claims lapsed at now, which count as absent
// already: the claim of an outcome that failed to record but was applied
// all the same is never dropped otherwise. Callers hold c.mu; the set is
// about as large as the attempts under way.
func (c *claims) forget(now time.Time) {
	for k, until := range c.m {
		if !now.Before(until) {
			delete(c.m, k)
		}
	}
}

// drop ends d's claim.
func (c *claims) drop(d *inbox.Delivery) {
	c.mu.Lock()
	delete(c.m, claimKey(d.EventID, d.Destination))
	c.mu.Unlock()
}

// Release gives back the claim on d without recording an attempt: the
// next Claim may return it again.
func (db *DB) Release(d inbox.Delivery) { db.claims.drop(&d) }
