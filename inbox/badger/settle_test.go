package badger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// TestSettleTwiceConcurrently: settlements arriving together share a
// transaction; one that finds its entry gone (settled already) gets
// ErrNotFound without spoiling the others in its batch.
func TestSettleTwiceConcurrently(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	const n = 40
	for i := range n {
		if _, err := db.Accept(context.Background(), newEvent(fmt.Sprint("iv-", i), fmt.Sprint(`{"n":`, i, `}`), "app")); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := db.Pending()
	if err != nil || len(pending) != n {
		t.Fatalf("pending %d, %v", len(pending), err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, gone := 0, 0
	for _, d := range pending {
		for range 2 {
			wg.Go(func() {
				err := db.Ack(d, inbox.Attempt{Kind: inbox.AttemptSend, At: time.Now(), Number: 1, Status: 200})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, inbox.ErrNotFound):
					gone++
				default:
					t.Errorf("ack: %v", err)
				}
			})
		}
	}
	wg.Wait()
	if ok != n || gone != n {
		t.Errorf("%d acks took, %d found the entry gone; want %d and %d", ok, gone, n, n)
	}
	if left, _ := db.Pending(); len(left) != 0 {
		t.Errorf("%d still pending", len(left))
	}
	for _, d := range pending {
		at, err := db.Attempts(d.EventID)
		if err != nil || len(at) != 1 {
			t.Errorf("%s: %d attempts recorded (%v), want 1", d.EventID, len(at), err)
		}
	}
}
