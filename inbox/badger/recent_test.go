package badger

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// TestEventWithBodyFromMemoryMatchesStore: an event just accepted comes
// from memory and is exactly what the store holds; once evicted or
// pruned it comes from (or is gone from) the store.
func TestEventWithBodyFromMemoryMatchesStore(t *testing.T) {
	db := openTest(t)
	var all []string
	accept := func(i int, size int) string {
		ev := eventWithKey(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", size)))
		ev.DedupKeys = []string{fmt.Sprint("k:", i)}
		ev.Destinations = []string{"app"}
		// Any byte can arrive in a header; the record's JSON coerces
		// invalid UTF-8, and memory must hold the same.
		ev.Headers = map[string][]string{"User-Agent": {"test"}, "X-Forwarded-For": {"caf\xe9"}}
		ev.ContentType = "application/json; x=\xff\xfe"
		res, err := db.Accept(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.ID)
		return res.ID
	}
	fromStore := func(id string) *inbox.Event {
		var e inbox.Event
		err := db.bdb.View(func(txn *badger.Txn) error {
			_, err := getEvent(txn, id, &e, false)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		e.Body, err = db.Body(id)
		if err != nil {
			t.Fatal(err)
		}
		return &e
	}
	same := func(a, b *inbox.Event) bool {
		if !a.ReceivedAt.Equal(b.ReceivedAt) {
			return false
		}
		x, y := *a, *b
		x.ReceivedAt, y.ReceivedAt = time.Time{}, time.Time{}
		return reflect.DeepEqual(x, y)
	}

	// Duplicates, quarantined events and events for no destination are
	// never forwarded: nothing of them is kept.
	dup := eventWithKey(`{"dup":1}`)
	dup.DedupKeys, dup.Destinations = []string{"k:0"}, []string{"app"}
	quarantined := eventWithKey(`not json`)
	quarantined.DedupKeys, quarantined.Destinations, quarantined.Status = []string{"body:q"}, []string{"app"}, inbox.StatusQuarantined
	nowhere := eventWithKey(`{"nowhere":1}`)
	nowhere.DedupKeys = []string{"k:nowhere"}

	first := accept(0, 100)
	for _, ev := range []*inbox.Event{dup, quarantined, nowhere} {
		res, err := db.Accept(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := db.recent.get(res.ID); ok && res.ID != first {
			t.Errorf("%s (%s) kept in memory", res.ID, ev.Body)
		}
	}
	if n := len(db.recent.byID); n != 1 {
		t.Errorf("%d events kept, want only the first", n)
	}
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
		if err := db.SettleForTest(id, "app", inbox.DeliveryDelivered); err != nil {
			t.Fatal(err)
		}
	}
	// (The quarantined event and the one for nowhere have no pending
	// delivery, so they go too.)
	if rep, err := db.Prune(time.Now().Add(time.Hour)); err != nil || rep.Removed != len(all)+2 {
		t.Fatalf("prune = %+v, %v; want %d removed", rep, err, len(all)+2)
	}
	if _, ok := db.recent.get(last); ok {
		t.Error("a pruned event is still kept in memory")
	}
	if _, err := db.EventWithBody(last); err == nil {
		t.Error("a pruned event still reads")
	}
}

// TestRecentOrderStaysBounded: on a quiet gateway retention can remove
// events long before 4 MiB more arrive; what it removed does not pile up.
func TestRecentOrderStaysBounded(t *testing.T) {
	var r recentEvents
	for round := range 50 {
		for i := range 100 {
			r.add(&inbox.Event{ID: fmt.Sprintf("%d-%d", round, i), Body: []byte("{}")})
		}
		for i := range 100 {
			r.drop(fmt.Sprintf("%d-%d", round, i))
		}
	}
	r.add(&inbox.Event{ID: "last", Body: []byte("{}")})
	if len(r.order)-r.head > 2 || len(r.byID) != 1 || r.bytes != eventCost(r.byID["last"]) {
		t.Errorf("after 5,000 adds and drops: %d ids in order, %d kept, %d bytes", len(r.order)-r.head, len(r.byID), r.bytes)
	}
}
