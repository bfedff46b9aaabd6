package badger_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// acceptAll accepts evs from one goroutine each, released together so
// that they share group commits, and returns their results in order.
func acceptAll(t *testing.T, db *badger.DB, evs []*inbox.Event) ([]inbox.Result, []error) {
	t.Helper()
	res := make([]inbox.Result, len(evs))
	errs := make([]error, len(evs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, ev := range evs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res[i], errs[i] = db.Accept(context.Background(), ev)
		}()
	}
	close(start)
	wg.Wait()
	return res, errs
}

// searchIDs returns the ids List answers for q.
func searchIDs(t *testing.T, db *badger.DB, q inbox.Query) []string {
	t.Helper()
	p, err := db.List(q)
	if err != nil {
		t.Fatalf("list %+v: %v", q, err)
	}
	var ids []string
	for _, e := range p.Events {
		ids = append(ids, e.ID)
	}
	return ids
}

// An interview id or event type too long for a Badger key must neither
// be refused nor take the deliveries committed with it down: every good
// delivery commits, the long ones are archived byte for byte and found
// by search, and dedup on them stays exact.
func TestLongFieldsFailNoDelivery(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	long := strings.Repeat("x", 70_000)
	longID := newEvent(long, `{"long":"interview"}`, "app")
	longType := newEvent("i-long-type", `{"long":"type"}`, "app")
	longType.Type = "t." + long
	longType.DedupKeys = []string{longType.Type + ":i-long-type"}
	evs := []*inbox.Event{longID, longType}
	for i := range 150 {
		evs = append(evs, newEvent(fmt.Sprint("good-", i), fmt.Sprintf(`{"n":%d}`, i), "app"))
	}
	res, errs := acceptAll(t, db, evs)
	for i, err := range errs {
		if err != nil || res[i].Duplicate {
			t.Fatalf("delivery %d: %+v, %v", i, res[i], err)
		}
	}
	for i, ev := range evs[:2] {
		got, err := db.Event(res[i].ID)
		if err != nil {
			t.Fatalf("long delivery %d not archived: %v", i, err)
		}
		if got.InterviewID != ev.InterviewID || got.Type != ev.Type {
			t.Errorf("long delivery %d: fields changed", i)
		}
		if got.Status != inbox.StatusQuarantined || len(got.Destinations) != 0 {
			t.Errorf("long delivery %d: status %s, destinations %v; want quarantined, none", i, got.Status, got.Destinations)
		}
		body, err := db.Body(res[i].ID)
		if err != nil || string(body) != string(ev.Body) {
			t.Errorf("long delivery %d body = %q, %v", i, body, err)
		}
	}
	if pending, err := db.Pending(); err != nil || len(pending) != 150 {
		t.Errorf("pending = %d, %v; want the 150 good deliveries only", len(pending), err)
	}
	if got := searchIDs(t, db, inbox.Query{InterviewID: long}); len(got) != 1 || got[0] != res[0].ID {
		t.Errorf("search by long interview = %v, want [%s]", got, res[0].ID)
	}
	if got := searchIDs(t, db, inbox.Query{Source: "koji", Type: longType.Type}); len(got) != 1 || got[0] != res[1].ID {
		t.Errorf("search by long type = %v, want [%s]", got, res[1].ID)
	}
	dup, err := db.Accept(context.Background(), newEvent(long, `{"again":1}`, "app"))
	if err != nil || !dup.Duplicate || dup.ID != res[0].ID {
		t.Errorf("repeat of long interview = %+v, %v; want duplicate of %s", dup, err, res[0].ID)
	}
	other, err := db.Accept(context.Background(), newEvent(long[1:]+"y", `{"other":1}`, "app"))
	if err != nil || other.Duplicate {
		t.Errorf("a different long interview = %+v, %v; want a new event", other, err)
	}
}

// Interview ids with the characters the index escapes are found by an
// exact search, with or without the source, and match nothing else.
func TestSearchInterviewIDsWithEscapedCharacters(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	ids := []string{"a", "a/b", "50%", "50", "x%2Fy", "x/y", "%", "/"}
	got := map[string]string{}
	for _, id := range ids {
		r, err := db.Accept(context.Background(), newEvent(id, "body "+id))
		if err != nil {
			t.Fatal(err)
		}
		got[id] = r.ID
	}
	for _, id := range ids {
		for _, src := range []string{"", "koji"} {
			ids := searchIDs(t, db, inbox.Query{Source: src, InterviewID: id})
			if len(ids) != 1 || ids[0] != got[id] {
				t.Errorf("search source %q interview %q = %v, want [%s]", src, id, ids, got[id])
			}
		}
	}
}

// When the store refuses one delivery of a batch, the others still
// commit. A body over the in-memory store's value limit is the one
// refusal left that a test can provoke: on disk the limits are sized
// from Options.MaxBodyBytes.
func TestRefusedDeliveryFailsOnlyItself(t *testing.T) {
	db := mustOpen(t, "", badger.Options{})
	defer db.Close()
	evs := []*inbox.Event{newEvent("huge", strings.Repeat("b", 1<<20+1), "app")}
	for i := range 40 {
		evs = append(evs, newEvent(fmt.Sprint("good-", i), fmt.Sprintf(`{"n":%d}`, i), "app"))
	}
	res, errs := acceptAll(t, db, evs)
	if errs[0] == nil {
		t.Errorf("oversized body accepted by the in-memory store: %+v", res[0])
	}
	for i := 1; i < len(evs); i++ {
		if errs[i] != nil {
			t.Errorf("delivery %d failed with the oversized one: %v", i, errs[i])
		}
	}
}
