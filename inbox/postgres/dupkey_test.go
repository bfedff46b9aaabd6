package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

// A kept duplicate's body key leaves the dedup window with the event it
// names, not a window after the duplicate came, so retention (which keeps
// events at least a window) never removes an event a stored key names.
func TestKeptDuplicateKeyLeavesWithItsEvent(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{DedupWindow: time.Hour})
	ev := func(body string) *inbox.Event {
		return inboxtest.WithBody(&inbox.Event{Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: "iv-kept",
			Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now()}, body, "logical:iv-kept")
	}
	// The first event's id carries its receive time, half a window ago.
	early := ev(`{"v":1}`)
	early.ReceivedAt = time.Now().Add(-30 * time.Minute)
	first, err := db.Accept(context.Background(), early)
	if err != nil {
		t.Fatal(err)
	}
	dup := ev(`{"v":2}`)
	if r, err := db.Accept(context.Background(), dup); err != nil || !r.Duplicate || r.ID != first.ID {
		t.Fatalf("duplicate: %+v, %v", r, err)
	}
	ref := refOf("koji", dup.DedupKeys[1])
	var holder string
	var expires time.Time
	if err := db.pool.QueryRow(context.Background(), `SELECT event_id, expires_at FROM dedup_keys WHERE source = $1 AND key_hash = $2`,
		ref.source, ref.hash[:]).Scan(&holder, &expires); err != nil {
		t.Fatal(err)
	}
	leaves := inbox.IDTime(first.ID).Add(time.Hour) // a window after the first event
	if holder != first.ID || expires.After(leaves.Add(time.Minute)) {
		t.Errorf("the kept duplicate's key: held by %s until %s; want %s until %s at the latest", holder, expires, first.ID, leaves)
	}
}
