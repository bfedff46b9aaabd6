package main

import (
	"context"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/loadgen"
)

// The durable baseline answers the load as porch does (new events,
// duplicates flagged with the first id, wrong signatures 401) and every
// new event it acknowledged is in its store after it closes.
func TestDurableBaseline(t *testing.T) {
	dir := t.TempDir()
	targets := []*loadgen.Target{
		{Source: "k", Provider: "koji", Secret: "ks"},
		{Source: "g", Provider: "gather", Secret: "gs"},
	}
	store, err := openBadgerDurable(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := startDurable(store, targets)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		tg.URL = d.URL() + "/in/" + tg.Source
	}
	r, err := loadgen.Run(context.Background(), loadgen.Config{Targets: targets, Concurrency: 8, Count: 400, Dup: 0.2, Bad: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if r.Requests != 400 || r.Errors != 0 || r.Wrong != 0 {
		t.Fatalf("report %+v: want 400 requests, no errors, no wrong answers (first: %s)", r, r.FirstError)
	}
	if r.NewEvents != r.Kinds["fresh"] || r.Duplicates != r.Kinds["dup"] || r.Status[401] != r.Kinds["bad"] {
		t.Errorf("new %d dup %d 401 %d for kinds %v", r.NewEvents, r.Duplicates, r.Status[401], r.Kinds)
	}
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := 0
	_ = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("a/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			stored++
		}
		return nil
	})
	if stored != r.NewEvents {
		t.Errorf("%d bodies stored for %d new events acknowledged", stored, r.NewEvents)
	}
}
