package inboxtest

import (
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// Queued lists the outbox entries due within a day that may start (the
// head of each interview per destination), as the forwarder's Claim sees
// them, so that a test of a store's consumer can inspect or settle them.
// It gives the claims back, so a later call sees the entries again.
func Queued(t testing.TB, s inbox.Outbox) []inbox.Delivery {
	t.Helper()
	st, err := s.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for dest, d := range st {
		want[dest] = d.Depth
	}
	due, _, err := s.Claim(time.Now().Add(24*time.Hour), want, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range due {
		s.Release(d)
	}
	return due
}

// Depth is how many entries the outbox holds over all destinations,
// claimed or not, as the store reports it to metrics.
func Depth(t testing.TB, s inbox.Outbox) int {
	t.Helper()
	st, err := s.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range st {
		n += d.Depth
	}
	return n
}
