package badger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// batchWith queues fn in one settle batch with a Retry of the event's
// only delivery to next, by holding the settle writer until both wait in
// its queue (the writer takes everything queued into its next batch).
// It returns Retry's answer.
func batchWith(t *testing.T, db *DB, next time.Time, fn func()) error {
	t.Helper()
	p, err := db.Pending()
	if err != nil || len(p) != 1 {
		t.Fatalf("pending %d, %v", len(p), err)
	}
	busy, block := make(chan struct{}), make(chan struct{})
	go func() { _ = db.settle(func(*badger.Txn) error { close(busy); <-block; return nil }) }()
	<-busy // the writer runs the blocker: what is sent now waits in settleCh
	retryErr := make(chan error, 1)
	go func() {
		retryErr <- db.Retry(p[0], next, &inbox.Attempt{Kind: inbox.AttemptSend, At: time.Now(), Status: 503})
	}()
	waitFor(t, "Retry queued", func() bool { return len(db.settleCh) == 1 })
	go fn()
	waitFor(t, "fn's settlement queued behind Retry", func() bool { return len(db.settleCh) == 2 })
	close(block)
	return <-retryErr
}

func acceptOneForApp(t *testing.T, db *DB) *inbox.Event {
	t.Helper()
	ev := &inbox.Event{Source: "koji", Provider: "koji", Type: "x", InterviewID: "iv", Status: inbox.StatusAccepted,
		ReceivedAt: time.Now(), Body: []byte(`{}`), Destinations: []string{"app"}}
	if _, err := db.Accept(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func checkRetried(t *testing.T, db *DB, id string, next time.Time, err error) {
	t.Helper()
	p, _ := db.Pending()
	at, _ := db.Attempts(id)
	if err != nil || len(p) != 1 || !p[0].DueAt.Equal(next) || p[0].Attempts != 1 || len(at) != 1 {
		t.Errorf("Retry: %v; pending %+v; %d attempts recorded; want nil, due %v, 1 attempt", err, p, len(at), next)
	}
}

// TestSettleBatchRerunStartsFromTheCallersValues: a batch discarded
// because another function in it failed runs each function again alone;
// Retry must not find its own first run's changes (it looked for the new
// due time's key, reported ErrNotFound and lost the attempt).
func TestSettleBatchRerunStartsFromTheCallersValues(t *testing.T) {
	db := openTest(t)
	ev := acceptOneForApp(t, db)
	next := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	err := batchWith(t, db, next, func() {
		_ = db.settle(func(*badger.Txn) error { return errors.New("boom") })
	})
	checkRetried(t, db, ev.ID, next, err)
}

// TestRefusedReplayDoesNotSpoilASettleBatch: an admin replay naming a
// destination the event lacks fails before writing; the batch it shares
// still commits.
func TestRefusedReplayDoesNotSpoilASettleBatch(t *testing.T) {
	db := openTest(t)
	ev := acceptOneForApp(t, db)
	next := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	replayErr := make(chan error, 1)
	err := batchWith(t, db, next, func() {
		_, err := db.Replay(ev.ID, "nosuch", inbox.ReplayRequest{By: "t", Reason: "r"})
		replayErr <- err
	})
	checkRetried(t, db, ev.ID, next, err)
	if err := <-replayErr; !errors.Is(err, inbox.ErrNotForwardable) {
		t.Errorf("replay to a destination the event lacks: %v", err)
	}
}

// TestClaimWithNoRoomLeavesTheFloor: a scan that may read nothing must
// not hide what is queued.
func TestClaimWithNoRoomLeavesTheFloor(t *testing.T) {
	db := openTest(t)
	acceptOneForApp(t, db)
	far := time.Now().Add(time.Hour)
	if _, _, err := db.Claim(far, map[string]int{"app": 0}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if due, _, _ := db.Claim(far, map[string]int{"app": 10}, time.Minute); len(due) != 1 {
		t.Errorf("after a Claim wanting none: %d due, want 1", len(due))
	}
}
