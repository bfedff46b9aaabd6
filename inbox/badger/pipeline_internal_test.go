package badger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

func pipelineEvent(n int, key string) *inbox.Event {
	body := fmt.Appendf(nil, `{"n":%d}`, n)
	sum := sha256.Sum256(body)
	return &inbox.Event{Source: "koji", Provider: "koji", Type: "x", Status: inbox.StatusAccepted,
		Origin: inbox.OriginProvider, ReceivedAt: time.Now(), Body: body, BodySize: len(body),
		BodySHA256: hex.EncodeToString(sum[:]), DedupKeys: []string{key}}
}

// pipelineReq is ev as Accept hands it to the writer, its queue room
// taken.
func pipelineReq(t *testing.T, db *DB, ev *inbox.Event) *acceptReq {
	t.Helper()
	if err := db.queued.Acquire(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	return &acceptReq{ctx: context.Background(), ev: ev, done: make(chan inbox.Answer, 1), size: 1}
}

// A batch staged behind one handed to Badger begins once that one is
// durable, and so sees it: a resend of an event in the batch before is
// its duplicate, sightings count on across batches, and each batch
// chains on from the one before.
func TestBatchStagedBehindACommitSeesIt(t *testing.T) {
	db := openTest(t)
	a, b, c := pipelineReq(t, db, pipelineEvent(0, "a")), pipelineReq(t, db, pipelineEvent(1, "a")), pipelineReq(t, db, pipelineEvent(3, "a"))
	// The writer's order: each batch is staged once the one before it
	// was handed to Badger, and submitted once that one has landed.
	first := db.submit(db.stage(nil, nil, a))
	second := db.stage(first, nil, b)
	second = db.stage(first, second, pipelineReq(t, db, pipelineEvent(2, "b")))
	if db.land(first, second, <-first.done) != second {
		t.Fatal("land dropped the batch staged behind a good commit")
	}
	second = db.submit(second)
	third := db.stage(second, nil, c)
	if db.land(second, third, <-second.done) != third {
		t.Fatal("land dropped the batch staged behind a good commit")
	}
	third = db.submit(third)
	db.land(third, nil, <-third.done)

	id := first.results[0].ID
	if r := second.results[0]; !r.Duplicate || r.ID != id {
		t.Fatalf("resend staged while the original commits: %+v, want a duplicate of %s", r, id)
	}
	if r := third.results[0]; !r.Duplicate || r.ID != id {
		t.Fatalf("second resend: %+v, want a duplicate of %s", r, id)
	}
	if ev := second.reqs[1].ev; ev.PrevHash != first.st.head.Hash || ev.Seq != first.st.head.Seq+1 {
		t.Fatalf("second batch's event links to %s (seq %d), want %s (seq %d)", ev.PrevHash, ev.Seq, first.st.head.Hash, first.st.head.Seq+1)
	}
	for _, r := range []*acceptReq{a, b, c} {
		if ans := <-r.done; ans.Err != nil {
			t.Fatal(ans.Err)
		}
	}
	s, err := db.Sightings(id)
	if err != nil || s.Count != 2 || len(s.Recent) != 2 {
		t.Fatalf("sightings = %+v, %v; want 2", s, err)
	}
	if rep, err := db.Verify(context.Background()); err != nil || !rep.OK || rep.Checked != 2 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
}

// heldWriter drives db's writer through a first commit that waits until
// the test lets it go, so the test knows which deliveries queue behind
// it.
type heldWriter struct {
	db      *DB
	entered chan struct{}
	release chan struct{}
	commits atomic.Int32
	errs    chan error
	forward bool // deliveries name a destination, so their batches queue outbox entries
}

func holdFirstCommit(db *DB, forward bool) *heldWriter {
	h := &heldWriter{db: db, entered: make(chan struct{}), release: make(chan struct{}), errs: make(chan error, 16), forward: forward}
	db.beforeCommit = func() {
		if h.commits.Add(1) == 1 {
			h.entered <- struct{}{}
			<-h.release
		}
	}
	return h
}

// accept sends delivery n; its outcome goes to h.errs.
func (h *heldWriter) accept(n int) {
	ev := pipelineEvent(n, fmt.Sprint("k", n))
	if h.forward {
		ev.Destinations = []string{"app"}
	}
	_, err := h.db.Accept(context.Background(), ev)
	h.errs <- err
}

// queueBehindFirst sends delivery 0, whose commit is held, then queues
// more deliveries behind it, and waits until they are all queued.
func (h *heldWriter) queueBehindFirst(t *testing.T, queued int) {
	t.Helper()
	go h.accept(0)
	<-h.entered
	for i := 1; i <= queued; i++ {
		go h.accept(i)
	}
	waitFor(t, "deliveries queued behind the first", func() bool { return len(h.db.acceptCh) == queued })
}

// answered waits for n answers, all successes.
func (h *heldWriter) answered(t *testing.T, n int) {
	t.Helper()
	for range n {
		if err := <-h.errs; err != nil {
			t.Fatal(err)
		}
	}
}

// Deliveries that arrive while a batch commits are committed together,
// in the next batch: the commit under way is the group commit's wait.
func TestArrivalsDuringACommitShareTheNext(t *testing.T) {
	h := holdFirstCommit(openTest(t), false)
	h.queueBehindFirst(t, 5)
	close(h.release)
	h.answered(t, 6)
	if n := h.commits.Load(); n != 2 {
		t.Fatalf("%d commits, want 2 (1, then the 5 that arrived meanwhile)", n)
	}
}

// Close commits the batch in flight and what queued behind it.
func TestCloseCommitsWhatIsStaged(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h := holdFirstCommit(db, false)
	h.queueBehindFirst(t, 3)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	waitFor(t, "Close to begin", func() bool {
		select {
		case <-db.closing:
			return true
		default:
			return false
		}
	})
	close(h.release)
	h.answered(t, 4)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// After a busy batch that queued deliveries, the next batch waits for a
// fuller one (here for ever, so only Close ends the wait); Close
// commits it.
func TestBatchAfterABusyForwardedOneLingers(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.linger = time.Hour // read by the writer only after a batch lands
	h := holdFirstCommit(db, true)
	h.queueBehindFirst(t, 5)
	close(h.release)
	h.answered(t, 6)
	go h.accept(6)
	waitFor(t, "the writer to take the seventh delivery", func() bool { return len(db.acceptCh) == 0 })
	select {
	case err := <-h.errs:
		t.Fatalf("the delivery after a busy batch was answered (%v) without waiting for a fuller batch", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-h.errs; err != nil {
		t.Fatalf("the delivery held for a fuller batch: %v, want committed at Close", err)
	}
	if n := h.commits.Load(); n != 3 {
		t.Fatalf("%d commits, want 3 (1, then 5, then 1)", n)
	}
}

// A busy batch that queued nothing for the forwarder (an archive-only
// source) is followed at once: nothing lingers.
func TestNoLingerAfterABatchThatQueuedNothing(t *testing.T) {
	db := openTest(t)
	db.linger = time.Hour
	h := holdFirstCommit(db, false)
	h.queueBehindFirst(t, 5)
	close(h.release)
	h.answered(t, 6)
	go h.accept(6)
	select {
	case err := <-h.errs:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the delivery after a batch that queued nothing waited for a fuller batch")
	}
}
