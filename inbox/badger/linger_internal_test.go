package badger

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/porchgw/porch/inbox"
)

// forever is the writer's wait for a fuller batch in these tests: only
// arrivals or Close can end it.
const forever = time.Hour

// TestFillLingersOnlyAfterABusyBatch: after a batch of lingerAfter or
// more, fill waits for the batch to reach twice that (capped at
// MaxBatch); after a smaller batch it takes what is waiting and returns
// at once; Close ends the wait.
func TestFillLingersOnlyAfterABusyBatch(t *testing.T) {
	// In a bubble, synctest.Wait returns once fill is blocked waiting for
	// more, or has returned: no real time passes either way.
	synctest.Test(t, func(t *testing.T) {
		db := &DB{opt: Options{MaxBatch: 16}, acceptCh: make(chan *acceptReq, 64), closing: make(chan struct{}), linger: forever}
		one := func() []*acceptReq { return []*acceptReq{{}} }

		db.acceptCh <- &acceptReq{}
		if got := db.fill(one(), lingerAfter-1); len(got) != 2 {
			t.Fatalf("after a small batch: %d requests, want the 2 waiting", len(got))
		}

		done := make(chan []*acceptReq, 1)
		go func() { done <- db.fill(one(), 5) }()
		for range 4 {
			db.acceptCh <- &acceptReq{}
		}
		synctest.Wait() // fill has taken the four and waits for more, or has returned
		select {
		case got := <-done:
			t.Fatalf("after a batch of 5, fill returned %d requests without waiting for 10", len(got))
		default:
		}
		for range 6 {
			db.acceptCh <- &acceptReq{}
		}
		// Once the batch holds 10 it also takes whatever else is waiting.
		if got, left := <-done, len(db.acceptCh); len(got) < 10 || len(got)+left != 11 {
			t.Fatalf("after a batch of 5: %d requests and %d left, want 10 or 11 of 11", len(got), left)
		}
		for len(db.acceptCh) > 0 {
			<-db.acceptCh
		}

		for range 20 {
			db.acceptCh <- &acceptReq{}
		}
		if got := db.fill(one(), 100); len(got) != 16 {
			t.Fatalf("after a batch of 100: %d requests, want MaxBatch (16)", len(got))
		}
		for len(db.acceptCh) > 0 {
			<-db.acceptCh
		}

		go func() { done <- db.fill(one(), 8) }()
		close(db.closing)
		if got := <-done; len(got) != 1 {
			t.Fatalf("after Close: %d requests, want 1", len(got))
		}
	})
}

// TestCloseCommitsADeliveryTheWriterLingersOn: a delivery the writer is
// holding back for a fuller batch is committed when Close begins, not
// after the wait.
func TestCloseCommitsADeliveryTheWriterLingersOn(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.linger = forever // read by the writer only once a delivery reaches it

	// The first two commits wait to be released, so the test knows what
	// the writer is doing.
	entered, release := make(chan struct{}), make(chan struct{})
	var commits atomic.Int32
	db.beforeCommit = func() {
		if commits.Add(1) <= 2 {
			entered <- struct{}{}
			<-release
		}
	}
	ctx := context.Background()
	errs := make(chan error, 8)
	accept := func(n int) {
		ev := &inbox.Event{Source: "koji", Provider: "koji", Type: "x", Status: inbox.StatusAccepted,
			ReceivedAt: time.Now(), Body: fmt.Appendf(nil, `{"n":%d}`, n)}
		_, err := db.Accept(ctx, ev)
		errs <- err
	}

	// Five deliveries queue while the first is committed: they make a
	// batch of five, so the writer lingers on the next.
	go accept(0)
	<-entered
	for i := 1; i <= 5; i++ {
		go accept(i)
	}
	waitFor(t, "five deliveries queued", func() bool { return len(db.acceptCh) == 5 })
	release <- struct{}{}
	<-entered // the batch of five
	go accept(6)
	waitFor(t, "the seventh delivery queued", func() bool { return len(db.acceptCh) == 1 })
	release <- struct{}{}
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the writer to take the seventh delivery", func() bool { return len(db.acceptCh) == 0 }) // taken: the writer waits for nine more

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("the delivery held for a fuller batch: %v, want committed at Close", err)
	}
	if n := commits.Load(); n != 3 {
		t.Fatalf("%d commits, want 3 (1, then 5, then 1)", n)
	}
}
