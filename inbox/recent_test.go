package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// TestEventWithBodyFromMemoryMatchesStore: an event just accepted comes
// from memory and is exactly what the store holds; once evicted or
// pruned it comes from (or is gone from) the store.
func TestEventWithBodyFromMemoryMatchesStore(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var all []string
	accept := func(i int, size int) string {
		ev := eventWithKey(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", size)))
		ev.DedupKeys = []string{fmt.Sprint("k:", i)}
		ev.Destinations = []string{"app"}
		ev.Headers = map[string][]string{"User-Agent": {"test"}}
		res, err := db.Accept(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.ID)
		return res.ID
	}
	fromStore := func(id string) *Event {
		var e Event
		err := db.bdb.View(func(txn *badger.Txn) error { return getJSON(txn, eventKey(id), &e) })
		if err != nil {
			t.Fatal(err)
		}
		e.Body, err = db.Body(id)
		if err != nil {
			t.Fatal(err)
		}
		return &e
	}
	same := func(a, b *Event) bool {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return bytes.Equal(ja, jb) && bytes.Equal(a.Body, b.Body)
	}

	first := accept(0, 100)
	if _, ok := db.recent.get(first); !ok {
		t.Fatal("an event just accepted is not kept in memory")
	}
	got, err := db.EventWithBody(first)
	if err != nil || !same(got, fromStore(first)) {
		t.Fatalf("from memory: %+v, %v; store holds %+v", got, err, fromStore(first))
	}

	// Fill past the bound: the first is dropped, and still read right.
	for i := 1; db.recent.bytes < recentBytes-20<<10 || i < 10; i++ {
		accept(i, 16<<10)
	}
	last := accept(-1, 16<<10)
	if _, ok := db.recent.get(first); ok {
		t.Fatal("the oldest event is still kept past the bound")
	}
	if db.recent.bytes > recentBytes {
		t.Errorf("kept %d bytes, bound %d", db.recent.bytes, recentBytes)
	}
	got, err = db.EventWithBody(first)
	if err != nil || !same(got, fromStore(first)) {
		t.Fatalf("from the store: %+v, %v", got, err)
	}

	// Retention removes the newest too (its delivery settled): memory
	// forgets it.
	for _, id := range all {
		if err := db.SettleForTest(id, "app", DeliveryDelivered); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := db.Prune(time.Now().Add(time.Hour)); err != nil || rep.Removed != len(all) {
		t.Fatalf("prune = %+v, %v; want %d removed", rep, err, len(all))
	}
	if _, ok := db.recent.get(last); ok {
		t.Error("a pruned event is still kept in memory")
	}
	if _, err := db.EventWithBody(last); err == nil {
		t.Error("a pruned event still reads")
	}
}
