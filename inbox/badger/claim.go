package badger

import (
	"strconv"
	"sync"
	"time"

	"github.com/porchgw/porch/inbox"
)

var _ inbox.Outbox = (*DB)(nil)

// claims are the outbox entries handed out by Claim and not yet settled
// or released, by "<id>/<destination>", with when each claim lapses and
// its token. They live in memory: one process owns a Badger directory,
// and a restart ends every attempt it had under way.
//
// Each claim gets a token of its own (Delivery.Claim): a settle or
// release whose token is not the entry's latest claim (it lapsed and
// another claim took the entry) leaves that claim alone and fails. A
// lapsed claim nobody took since is forgotten, and its settle goes
// through.
type claims struct {
	// mu is held by Claim from reading the set until its scan is over,
	// and by every drop. A claim is dropped only after the commit that
	// settled its entry returned, and Claim opens its snapshot after
	// taking mu, so a snapshot that shows the entry still queued was taken
	// while the claim was still in the set, and the entry is skipped.
	mu sync.Mutex
	m  map[string]claim
	n  uint64 // the last token given
}

// claim is one entry's latest claim.
type claim struct {
	until time.Time
	token string
}

func claimKey(id, dest string) string { return id + "/" + dest }

// held reports whether k is claimed at now. Callers hold c.mu.
func (c *claims) held(k string, now time.Time) (until time.Time, ok bool) {
	cl, ok := c.m[k]
	return cl.until, ok && now.Before(cl.until)
}

// take claims d until until and sets its token. Callers hold c.mu.
func (c *claims) take(d *inbox.Delivery, until time.Time) {
	c.n++
	d.Claim = strconv.FormatUint(c.n, 10)
	c.m[claimKey(d.EventID, d.Destination)] = claim{until: until, token: d.Claim}
}

// forget removes the claims lapsed at now, which count as absent
// already: the claim of an outcome that failed to record but was applied
// all the same is never dropped otherwise. Callers hold c.mu; the set is
// about as large as the attempts under way.
func (c *claims) forget(now time.Time) {
	for k, cl := range c.m {
		if !now.Before(cl.until) {
			delete(c.m, k)
		}
	}
}

// retaken reports whether another claim than d's holds d's entry.
func (c *claims) retaken(d *inbox.Delivery) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.m[claimKey(d.EventID, d.Destination)]
	return ok && cl.token != d.Claim
}

// drop ends d's claim, unless another claim took its entry since.
func (c *claims) drop(d *inbox.Delivery) {
	c.mu.Lock()
	k := claimKey(d.EventID, d.Destination)
	if cl, ok := c.m[k]; ok && cl.token == d.Claim {
		delete(c.m, k)
	}
	c.mu.Unlock()
}

// Release gives back the claim on d without recording an attempt: the
// next Claim may return it again.
func (db *DB) Release(d inbox.Delivery) { db.claims.drop(&d) }
