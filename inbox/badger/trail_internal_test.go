package badger

import (
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// A trail written before entries were indexed by class is indexed on
// first use, so its old entries are bounded like new ones.
func TestTrailIndexesAnUnindexedTrail(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir(), TrailSearchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.bdb.Update(func(txn *badger.Txn) error {
		for i, action := range []string{"search", "export", "search", "search", "raw"} {
			seq := uint64(i + 1)
			if err := putJSON(txn, seqKey(pfxTrail, seq), inbox.Access{Seq: seq, Action: action}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.LogAccess(inbox.Access{Action: "search"}); err != nil {
		t.Fatal(err)
	}
	list, err := db.AccessTrail(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, a := range list {
		got = append(got, a.Seq)
	}
	// Searches 1 and 3 are dropped; the export (2) and raw read (5) stay.
	if want := []uint64{6, 5, 4, 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("trail seqs = %v, want %v", got, want)
	}
	if d := db.TrailDropped()[inbox.TrailSearch]; d != 2 {
		t.Errorf("dropped %d searches, want 2", d)
	}
}
