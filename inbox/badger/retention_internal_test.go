package badger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// TestPruneSplitsAPassTooBigForOneTransaction: events with long delivery
// histories (4,000 attempt records, and 8,000 for the second) do not fit
// 200 to a transaction, nor the second alone; retention must still
// remove them, in smaller transactions, rather than fail every pass with
// ErrTxnTooBig.
func TestPruneSplitsAPassTooBigForOneTransaction(t *testing.T) {
	db := openTest(t)
	old := time.Now().Add(-time.Hour)
	var ids []string
	for i := range 3 {
		ev := &inbox.Event{Source: "koji", Provider: "koji", Type: "x", InterviewID: fmt.Sprint("iv-", i), Status: inbox.StatusAccepted,
			ReceivedAt: old.Add(time.Duration(i) * time.Second), Body: []byte(`{}`), Destinations: []string{"app"}}
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if err := db.SettleForTest(ev.ID, "app", inbox.DeliveryDelivered); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	for i, id := range ids {
		attempts := uint64(4000)
		if i == 1 {
			attempts = 8000 // more than one transaction holds (about 6,500)
		}
		for lo := uint64(1); lo <= attempts; lo += 1000 {
			err := db.bdb.Update(func(txn *badger.Txn) error {
				for n := lo; n < lo+1000; n++ {
					if err := txn.Set(seqKey(attemptPrefix(id, "app"), n), []byte(`{"kind":"send"}`)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	rep, err := db.Prune(time.Now())
	if err != nil || rep.Removed != 3 {
		t.Fatalf("prune = %+v, %v; want 3 removed", rep, err)
	}
	for _, id := range ids {
		if at, err := db.Attempts(id); err != nil || len(at) != 0 {
			t.Errorf("event %s: %d attempts left, %v", id, len(at), err)
		}
	}
}
