package badger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// dueAll returns every entry of destination app that Claim would return
// at now, with a lease that lapses at once, so a later call sees them too.
func dueAll(t *testing.T, db *badger.DB, now time.Time) []inbox.Delivery {
	t.Helper()
	due, _, err := db.Claim(now, map[string]int{"app": 1 << 20}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return due
}

// TestClaimSeesEntriesQueuedBelowTheFloor: Claim starts reading past the
// settled head of the outbox, yet finds entries queued earlier than
// anything it saw before (a retry scheduled in the past, a replay).
func TestClaimSeesEntriesQueuedBelowTheFloor(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	for i := range 20 {
		if _, err := db.Accept(context.Background(), newEvent(fmt.Sprint("iv-", i), fmt.Sprint(`{"n":`, i, `}`), "app")); err != nil {
			t.Fatal(err)
		}
	}
	far := time.Now().Add(time.Hour)
	due := dueAll(t, db, far)
	if len(due) != 20 {
		t.Fatalf("due %d, want 20", len(due))
	}
	for _, d := range due[:15] {
		if err := db.Ack(d, inbox.Attempt{Kind: inbox.AttemptSend, At: time.Now(), Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	left := dueAll(t, db, far)
	if len(left) != 5 || left[4].EventID != due[19].EventID {
		t.Fatalf("after 15 acks: due %v, want 5, last %s", left, due[19].EventID)
	}
	// Move one to long before everything else, under its latest claim.
	if err := db.Retry(left[4], time.Unix(1, 0), nil); err != nil {
		t.Fatal(err)
	}
	got := dueAll(t, db, far)
	if len(got) != 5 || got[0].EventID != due[19].EventID {
		t.Fatalf("after an early retry: %d due, first %s; want 5, first %s", len(got), got[0].EventID, due[19].EventID)
	}
	// A replay of a settled event is due now, before the remaining ones
	// when the clock says so.
	if _, err := db.Replay(due[0].EventID, "", inbox.ReplayRequest{By: "t", Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	if got := dueAll(t, db, far); len(got) != 6 {
		t.Fatalf("after a replay: due %d, want 6", len(got))
	}
}

// TestClaimMissesNothingUnderConcurrentWrites: one scanner settles what
// Claim returns while writers keep queuing; every entry is found.
func TestClaimMissesNothingUnderConcurrentWrites(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	const n = 400
	// The writers queue in groups of 20, each group after the scanner
	// has made another pass, so that scans and writes interleave.
	scanned := make(chan struct{}, 1)
	go func() {
		for i := range n {
			if i%20 == 0 {
				<-scanned
			}
			go func() {
				_, _ = db.Accept(context.Background(), newEvent(fmt.Sprint("iv-", i), fmt.Sprint(`{"n":`, i, `}`), "app"))
			}()
		}
	}()
	acked := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(acked) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d entries ever came due", len(acked), n)
		}
		due, _, err := db.Claim(time.Now().Add(time.Hour), map[string]int{"app": 7}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case scanned <- struct{}{}:
		default:
		}
		for _, d := range due {
			if err := db.Ack(d, inbox.Attempt{Kind: inbox.AttemptSend, At: time.Now(), Status: 200}); err != nil {
				t.Fatal(err)
			}
			acked[d.EventID] = true
		}
	}
}
