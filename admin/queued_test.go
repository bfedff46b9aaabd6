package admin_test

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

// queuedDelivery is the outbox entry of event id for dest, never tried
// since it was queued, rebuilt from what the archive shows of it (its
// event, and its delivery state's next attempt), so that a test can
// settle it although it is not the head of its interview.
func queuedDelivery(t testing.TB, db inbox.Store, id, dest string) inbox.Delivery {
	t.Helper()
	ev, err := db.Event(id)
	if err != nil {
		t.Fatal(err)
	}
	states, err := db.Deliveries(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.Destination == dest && st.Status == inbox.DeliveryPending {
			return inbox.Delivery{EventID: id, Destination: dest, InterviewID: ev.InterviewID, Seq: ev.Seq,
				Attempts: st.Attempts, Total: st.Attempts, DueAt: st.NextAt}
		}
	}
	t.Fatalf("no pending delivery of %s to %s", id, dest)
	return inbox.Delivery{}
}
