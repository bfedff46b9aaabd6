package badger

import (
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// TestAttemptHistoryAppendsWhateverTheHint: records are numbered 1, 2,
// 3... in the order they were written, whether the attempt number they
// carry matches (the quick path), is missing (a replay's record), runs
// behind or runs ahead.
func TestAttemptHistoryAppendsWhateverTheHint(t *testing.T) {
	db := openTest(t)
	numbers := []int{1, 2, 0, 3, 10, 6}
	for _, n := range numbers {
		err := db.bdb.Update(func(txn *badger.Txn) error {
			return recordAttempt(txn, "ev", "app", inbox.Attempt{Kind: inbox.AttemptSend, Number: n})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Two in one transaction: the second sees the first.
	err := db.bdb.Update(func(txn *badger.Txn) error {
		if err := recordAttempt(txn, "ev", "app", inbox.Attempt{Number: 7}); err != nil {
			return err
		}
		return recordAttempt(txn, "ev", "app", inbox.Attempt{Number: 8})
	})
	if err != nil {
		t.Fatal(err)
	}
	numbers = append(numbers, 7, 8)
	got, err := db.Attempts("ev")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(numbers) {
		t.Fatalf("%d records, want %d", len(got), len(numbers))
	}
	for i, a := range got {
		if a.N != uint64(i+1) || a.Number != numbers[i] {
			t.Errorf("record %d: n %d number %d, want n %d number %d", i, a.N, a.Number, i+1, numbers[i])
		}
	}
}
