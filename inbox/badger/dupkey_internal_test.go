package badger

import (
	"context"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

// A kept duplicate's body key leaves the dedup window with the event it
// names, not a window after the duplicate came, so retention (which keeps
// events at least a window) never removes an event a stored key names.
func TestKeptDuplicateKeyLeavesWithItsEvent(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir(), DedupWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ev := func(body string) *inbox.Event {
		return inboxtest.WithBody(&inbox.Event{Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: "iv",
			Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now()}, body, "logical:iv")
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
	expiry := func(k string) time.Time {
		var at uint64
		err := db.bdb.View(func(txn *badger.Txn) error {
			item, err := txn.Get(dedupKey("koji", k))
			if err == nil {
				at = item.ExpiresAt()
			}
			return err
		})
		if err != nil {
			t.Fatalf("dedup key %s: %v", k, err)
		}
		return time.Unix(int64(at), 0)
	}
	leaves := inbox.IDTime(first.ID).Add(time.Hour) // a window after the first event
	if kept := expiry(dup.DedupKeys[1]); kept.After(leaves.Add(time.Minute)) {
		t.Errorf("the kept duplicate's key expires at %s, after its event leaves the window at %s", kept, leaves)
	}
}
