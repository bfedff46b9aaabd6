package admin_test

import (
	"testing"

	"github.com/porchgw/porch/inbox"
)

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
