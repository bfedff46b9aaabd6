package badger_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

func mustOpen(t testing.TB, dir string, opt badger.Options) *badger.DB {
	t.Helper()
	opt.Dir = dir
	db, err := badger.Open(opt)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return db
}

func newEvent(interview string, body string, dests ...string) *inbox.Event {
	sum := sha256.Sum256([]byte(body))
	h := hex.EncodeToString(sum[:])
	return &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed",
		InterviewID: interview, Status: inbox.StatusAccepted, Origin: inbox.OriginProvider,
		ReceivedAt: time.Now(), Body: []byte(body), BodySHA256: h, BodySize: len(body),
		DedupKeys:    []string{"interview.completed:" + interview, "body:" + h},
		Destinations: dests,
		Verification: inbox.Verification{Mode: "raw"},
	}
}

func TestAcceptStoresEventBodyAndOutbox(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	ev := newEvent("i-1", `{"a":1}`, "app", "audit")
	res, err := db.Accept(context.Background(), ev)
	if err != nil || res.Duplicate || res.ID == "" {
		t.Fatalf("accept = %+v, %v", res, err)
	}
	got, err := db.Event(res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 1 || got.PrevHash != inbox.GenesisHash || got.Hash != inbox.ChainHash(got) {
		t.Errorf("chain fields: seq %d prev %s hash %s", got.Seq, got.PrevHash, got.Hash)
	}
	body, err := db.Body(res.ID)
	if err != nil || string(body) != `{"a":1}` {
		t.Errorf("body = %q, %v", body, err)
	}
	pending, err := db.Pending()
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	select {
	case <-db.Wake():
	default:
		t.Error("no wake signal after enqueue")
	}
}

func TestAcceptDuplicateRecordsSighting(t *testing.T) {
	db := mustOpen(t, "", badger.Options{})
	defer db.Close()
	first, err := db.Accept(context.Background(), newEvent("i-1", `{"a":1}`, "app"))
	if err != nil {
		t.Fatal(err)
	}
	// Different bytes, same logical event: the dedup key matches.
	dup, err := db.Accept(context.Background(), newEvent("i-1", `{"a": 1}`, "app"))
	if err != nil || !dup.Duplicate || dup.ID != first.ID {
		t.Fatalf("dup = %+v, %v; want duplicate of %s", dup, err, first.ID)
	}
	s, err := db.Sightings(first.ID)
	if err != nil || s.Count != 1 || len(s.Recent) != 1 || s.Recent[0].DedupKey != "interview.completed:i-1" {
		t.Errorf("sightings = %+v, %v", s, err)
	}
	if p, _ := db.Pending(); len(p) != 1 {
		t.Errorf("pending = %d, want 1", len(p))
	}
}

func TestConcurrentIdenticalDeliveriesMakeOneEvent(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	const n = 200
	var wg sync.WaitGroup
	ids := make(chan inbox.Result, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := db.Accept(context.Background(), newEvent("same", `{"x":true}`, "app", "audit"))
			if err != nil {
				t.Error(err)
			}
			ids <- r
		}()
	}
	wg.Wait()
	close(ids)
	var fresh int
	seen := map[string]bool{}
	for r := range ids {
		seen[r.ID] = true
		if !r.Duplicate {
			fresh++
		}
	}
	if fresh != 1 || len(seen) != 1 {
		t.Errorf("fresh %d, distinct ids %d; want 1 and 1", fresh, len(seen))
	}
	if p, _ := db.Pending(); len(p) != 2 {
		t.Errorf("outbox entries = %d, want 2", len(p))
	}
	for id := range seen {
		if s, _ := db.Sightings(id); s.Count != n-1 {
			t.Errorf("sightings = %d, want %d", s.Count, n-1)
		}
	}
}

func TestReopenKeepsEventsDedupAndChain(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, badger.Options{})
	var last inbox.Result
	for i := range 5 {
		r, err := db.Accept(context.Background(), newEvent(fmt.Sprint("i-", i), fmt.Sprint(`{"n":`, i, `}`), "app"))
		if err != nil {
			t.Fatal(err)
		}
		last = r
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir, badger.Options{})
	defer db.Close()
	dup, err := db.Accept(context.Background(), newEvent("i-4", `{"n":4}`, "app"))
	if err != nil || !dup.Duplicate || dup.ID != last.ID {
		t.Fatalf("after reopen: %+v, %v", dup, err)
	}
	r, err := db.Accept(context.Background(), newEvent("i-9", `{"n":9}`, "app"))
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := db.Event(r.ID)
	prev, _ := db.Event(last.ID)
	if ev.Seq != 6 || ev.PrevHash != prev.Hash {
		t.Errorf("chain after reopen: seq %d prev %s, want 6 and %s", ev.Seq, ev.PrevHash, prev.Hash)
	}
}

// TestDedupWindowExpires runs an in-memory store (no file I/O) in a
// bubble: Badger stamps and checks TTLs with time.Now, which is the
// bubble's fake clock, so the sleep past the window takes no real time.
func TestDedupWindowExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := mustOpen(t, "", badger.Options{DedupWindow: time.Second})
		defer db.Close()
		a, _ := db.Accept(context.Background(), newEvent("i", `{}`))
		time.Sleep(2100 * time.Millisecond) // Badger TTLs have one-second resolution.
		b, err := db.Accept(context.Background(), newEvent("i", `{}`))
		if err != nil || b.Duplicate || b.ID == a.ID {
			t.Errorf("after window: %+v, %v; want a new event", b, err)
		}
	})
}

func TestAcceptWithdrawnLeavesNothing(t *testing.T) {
	db := mustOpen(t, "", badger.Options{})
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := db.Accept(ctx, newEvent("i", `{}`, "app"))
	if !errors.Is(err, inbox.ErrNotDurable) {
		t.Fatalf("err = %v, want ErrNotDurable", err)
	}
	if _, err := db.LookupDedup("koji", "interview.completed:i"); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("dedup key present after withdrawn accept: %v", err)
	}
	if p, _ := db.Pending(); len(p) != 0 {
		t.Errorf("outbox has %d entries", len(p))
	}
}

func TestAcceptAfterClose(t *testing.T) {
	db := mustOpen(t, "", badger.Options{})
	db.Close()
	if _, err := db.Accept(context.Background(), newEvent("i", `{}`)); !errors.Is(err, inbox.ErrClosed) {
		t.Errorf("err = %v, want ErrClosed", err)
	}
}

func TestRejectionLogIsBounded(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, badger.Options{RejectedLogSize: 10})
	for i := range 25 {
		db.LogRejection(inbox.Rejection{Kind: "rejected", Source: "koji", Reason: fmt.Sprint("r", i)})
	}
	db.Close() // drains the log writer
	db = mustOpen(t, dir, badger.Options{RejectedLogSize: 10})
	defer db.Close()
	got, err := db.Rejections(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0].Reason != "r24" || got[9].Reason != "r15" {
		t.Errorf("got %d entries, first %+v", len(got), got)
	}
	older, _ := db.Rejections(got[4].Seq, 3)
	if len(older) != 3 || older[0].Seq != got[5].Seq {
		t.Errorf("page = %+v", older)
	}
}

func TestAcceptRacingCloseNeverHangs(t *testing.T) {
	for range 50 {
		db := mustOpen(t, "", badger.Options{})
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.Accept(context.Background(), newEvent(fmt.Sprint(i), "{}"))
				if err != nil && !errors.Is(err, inbox.ErrClosed) {
					t.Errorf("accept: %v", err)
				}
			}()
		}
		db.Close()
		wg.Wait() // with no deadline, a lost request would hang here
	}
}

func TestAcceptRefusesWhenDiskNearlyFull(t *testing.T) {
	// A reserve larger than any disk: every delivery is refused, cleanly.
	db := mustOpen(t, t.TempDir(), badger.Options{MinFreeBytes: 1 << 62})
	defer db.Close()
	_, err := db.Accept(context.Background(), newEvent("i", `{}`, "app"))
	if !errors.Is(err, inbox.ErrNotDurable) {
		t.Fatalf("err = %v, want ErrNotDurable", err)
	}
	if db.Ready() == nil {
		t.Error("Ready() = nil while the disk is short")
	}
	if p, _ := db.Pending(); len(p) != 0 {
		t.Error("a refused delivery was queued")
	}
}

// LookupDedup (the admin's dedup lookup) runs beside the accept writer;
// under the race detector this shows it leaves the writer's dedup filter
// alone.
func TestLookupDedupWhileAccepting(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			ev := newEvent(fmt.Sprint("iv-", i), fmt.Sprintf(`{"n":%d}`, i))
			ev.DedupKeys = []string{fmt.Sprint("k:", i)}
			if _, err := db.Accept(context.Background(), ev); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	found := 0
	for i := 0; ; i++ {
		select {
		case <-done:
			if id, err := db.LookupDedup("koji", "k:199"); err != nil || id == "" {
				t.Fatalf("lookup of the last key: %q, %v", id, err)
			}
			t.Logf("%d lookups found their key while accepting", found)
			return
		default:
		}
		if _, err := db.LookupDedup("koji", fmt.Sprint("k:", i%200)); err == nil {
			found++
		} else if !errors.Is(err, inbox.ErrNotFound) {
			t.Fatal(err)
		}
	}
}
