package badger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

// A store written before key parts were bounded holds a long interview
// id, type and dedup key whole. Such an event must still be found by
// search, still hold its dedup key, and leave no index entry behind
// when retention removes it.
func TestLongKeysOfOlderStores(t *testing.T) {
	db := openTest(t)
	long := strings.Repeat("y", 1000)
	ev := &inbox.Event{
		Source: "koji", Provider: "koji", Type: "t." + long, InterviewID: "a/" + long,
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now().Add(-time.Hour),
		Body: []byte("{}"), DedupKeys: []string{"k:" + long},
	}
	res, err := db.Accept(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite the event's keys in the form older stores wrote: the
	// interview index (xi/, bounded and whole) and the type index whole.
	// The folded index stays: every store has it (backfillFoldIndex).
	old := legacyIndexKeys(ev)
	lk, ok := legacyDedupKey(ev.Source, ev.DedupKeys[0])
	if len(old) != 3 || !ok {
		t.Fatalf("legacy keys: %d index, dedup %v", len(old), ok)
	}
	err = db.bdb.Update(func(txn *badger.Txn) error {
		for _, k := range append(indexKeys(ev)[:1], dedupKey(ev.Source, ev.DedupKeys[0])) {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		for _, k := range old {
			if err := txn.Set(k, nil); err != nil {
				return err
			}
		}
		db.dedup.add(lk)
		db.textKeysUntil = time.Now().Add(time.Hour) // as Open finds a key of an older form
		return txn.Set(lk, []byte(res.ID))
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, q := range []inbox.Query{{InterviewID: ev.InterviewID}, {Source: "koji", Type: ev.Type}, {Source: "koji"}} {
		if p, err := db.List(q); err != nil || len(p.Events) != 1 || p.Events[0].ID != res.ID {
			t.Errorf("search %.40q/%.40q: %d events, %v", q.Type, q.InterviewID, len(p.Events), err)
		}
	}
	again := *ev
	again.Body = []byte(`{"again":1}`)
	dup, err := db.Accept(context.Background(), &again)
	if err != nil || !dup.Duplicate || dup.ID != res.ID {
		t.Errorf("repeat = %+v, %v; want duplicate of %s", dup, err, res.ID)
	}
	if id, err := db.LookupDedup(ev.Source, ev.DedupKeys[0]); err != nil || id != res.ID {
		t.Errorf("LookupDedup = %q, %v", id, err)
	}

	if rep, err := db.Prune(time.Now()); err != nil || rep.Removed != 1 {
		t.Fatalf("prune = %+v, %v", rep, err)
	}
	err = db.bdb.View(func(txn *badger.Txn) error {
		for _, k := range old {
			if _, err := txn.Get(k); !errors.Is(err, badger.ErrKeyNotFound) {
				t.Errorf("index key %.40q left after prune: %v", k, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Older stores listed accepted events in the status index too. Such an
// event is found once by a search for the accepted, and retention
// leaves no entry of it behind.
func TestAcceptedStatusEntryOfOlderStores(t *testing.T) {
	db := openTest(t)
	ev := &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: "iv-1",
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now().Add(-time.Hour),
		Body: []byte("{}"), DedupKeys: []string{"k"},
	}
	res, err := db.Accept(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	old := []byte(indexPrefix(pfxIdxStatus, string(inbox.StatusAccepted)) + res.ID)
	for _, k := range indexKeys(ev) {
		if string(k) == string(old) {
			t.Fatalf("an accepted event is in the status index: %q", k)
		}
	}
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Set(old, nil) }); err != nil {
		t.Fatal(err)
	}
	p, err := db.List(inbox.Query{Status: inbox.StatusAccepted})
	if err != nil || len(p.Events) != 1 || p.Events[0].ID != res.ID {
		t.Fatalf("search accepted: %d events, %v", len(p.Events), err)
	}
	if rep, err := db.Prune(time.Now()); err != nil || rep.Removed != 1 {
		t.Fatalf("prune = %+v, %v", rep, err)
	}
	err = db.bdb.View(func(txn *badger.Txn) error {
		if _, err := txn.Get(old); !errors.Is(err, badger.ErrKeyNotFound) {
			t.Errorf("status entry left after prune: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Dedup keys are stored hashed, 17 bytes after the source whatever the
// key; keys an older store holds as text are still found while they may
// be in the window, so a resend of that store's event is its duplicate
// (the same bytes: no new event; other bytes: a kept copy).
func TestTextDedupKeysOfOlderStores(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(body string) *inbox.Event {
		return inboxtest.WithBody(&inbox.Event{Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: "iv-1",
			Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now()}, body, "interview.completed:iv-1")
	}
	first := ev(`{"v":1}`)
	res, err := db.Accept(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	if !db.textKeysUntil.IsZero() {
		t.Errorf("a new store looks up text keys until %s", db.textKeysUntil)
	}
	for _, k := range first.DedupKeys {
		if dk := dedupKey("koji", k); len(dk) != len("d/koji/")+17 || dk[len("d/koji/")] != 0xFF || !hashedDedupKey(dk) || hashedDedupKey(textDedupKey("koji", k)) {
			t.Fatalf("dedup key %q stored as %q", k, dk)
		}
	}
	// Store the keys as an older store held them, as text, and open the
	// store again as an upgraded porch would.
	err = db.bdb.Update(func(txn *badger.Txn) error {
		for _, k := range first.DedupKeys {
			if err := txn.Delete(dedupKey("koji", k)); err != nil {
				return err
			}
			if err := txn.SetEntry(badger.NewEntry(textDedupKey("koji", k), []byte(res.ID)).WithTTL(time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if until := time.Until(db.textKeysUntil); until < 50*time.Minute || until > time.Hour+time.Minute {
		t.Errorf("text keys looked up for %s more, want about the hour they have left", until)
	}
	for i, body := range []string{`{"v":1}`, `{"v":2}`} {
		if r, err := db.Accept(context.Background(), ev(body)); err != nil || !r.Duplicate || r.ID != res.ID {
			t.Errorf("resend %s of an event whose keys are stored as text: %+v, %v; want a duplicate of %s", body, r, err, res.ID)
		}
		if p, err := db.List(inbox.Query{Limit: 10}); err != nil || len(p.Events) != i+1 {
			t.Errorf("after resending %s: %d events, %v; want %d", body, len(p.Events), err, i+1)
		}
	}
}
