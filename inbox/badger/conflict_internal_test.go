package badger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

func eventWithKey(body string) *inbox.Event {
	return &inbox.Event{Source: "koji", Provider: "koji", Type: "x", InterviewID: "iv", Status: inbox.StatusAccepted,
		ReceivedAt: time.Now(), Body: []byte(body), DedupKeys: []string{"k:iv"}}
}

// TestAcceptConflictIsRetriedNotFatal: when another writer changes a key
// an accept batch read (here the sightings of the event a duplicate
// points to) the batch is built again on what is stored now; the store
// does not give up on deliveries as it does after a failed sync.
func TestAcceptConflictIsRetriedNotFatal(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	first, err := db.Accept(ctx, eventWithKey(`{"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	meddle := func() error {
		return db.bdb.Update(func(txn *badger.Txn) error {
			return putJSON(txn, sightingsKey(first.ID), inbox.Sightings{Count: 5})
		})
	}
	conflicts := 1
	db.beforeCommit = func() {
		if conflicts > 0 {
			conflicts--
			if err := meddle(); err != nil {
				t.Error(err)
			}
		}
	}
	r, err := db.Accept(ctx, eventWithKey(`{"n":2}`))
	if err != nil || !r.Duplicate || r.ID != first.ID {
		t.Fatalf("duplicate after one conflict: %+v, %v", r, err)
	}
	if s, err := db.Sightings(first.ID); err != nil || s.Count != 6 {
		t.Errorf("sightings %+v, %v: want the other writer's 5 plus this one", s, err)
	}

	// A batch that keeps conflicting gets 503, and the store goes on.
	conflicts = 1 << 30
	if _, err := db.Accept(ctx, eventWithKey(`{"n":3}`)); !errors.Is(err, inbox.ErrNotDurable) {
		t.Fatalf("always conflicting: %v, want ErrNotDurable", err)
	}
	conflicts = 0
	if r, err := db.Accept(ctx, eventWithKey(`{"n":4}`)); err != nil || !r.Duplicate {
		t.Fatalf("after the conflicts: %+v, %v", r, err)
	}
}
