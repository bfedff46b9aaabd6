package metrics_test

import (
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// queued lists the outbox entries due within a day that may start (the
// head of each interview per destination), as the forwarder's Claim
// sees them, so that a test can inspect or settle them. It gives the
// claims back, so a later call sees the entries again.
func queued(t testing.TB, db inbox.Outbox) []inbox.Delivery {
	t.Helper()
	st, err := db.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for dest, s := range st {
		want[dest] = s.Depth
	}
	due, _, err := db.Claim(time.Now().Add(24*time.Hour), want, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range due {
		db.Release(d)
	}
	return due
}
