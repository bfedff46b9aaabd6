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

// Deliveries that arrive while a batch commits are committed together,
// in the next batch: the pipeline is the group commit.
func TestArrivalsDuringACommitShareTheNext(t *testing.T) {
	db := openTest(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var commits atomic.Int32
	db.beforeCommit = func() {
		if commits.Add(1) == 1 {
			entered <- struct{}{}
			<-release
		}
	}
	errs := make(chan error, 8)
	accept := func(n int) {
		_, err := db.Accept(context.Background(), pipelineEvent(n, fmt.Sprint("k", n)))
		errs <- err
	}
	go accept(0)
	<-entered
	for i := 1; i <= 5; i++ {
		go accept(i)
	}
	waitFor(t, "five deliveries queued", func() bool { return len(db.acceptCh) == 5 })
	close(release)
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := commits.Load(); n != 2 {
		t.Fatalf("%d commits, want 2 (1, then the 5 that arrived meanwhile)", n)
	}
}

// Close commits the batch in flight and the one staged behind it.
func TestCloseCommitsWhatIsStaged(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var commits atomic.Int32
	db.beforeCommit = func() {
		if commits.Add(1) == 1 {
			entered <- struct{}{}
			<-release
		}
	}
	errs := make(chan error, 8)
	accept := func(n int) {
		_, err := db.Accept(context.Background(), pipelineEvent(n, fmt.Sprint("k", n)))
		errs <- err
	}
	go accept(0)
	<-entered
	for i := 1; i <= 3; i++ {
		go accept(i)
	}
	waitFor(t, "three deliveries queued", func() bool { return len(db.acceptCh) == 3 })
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
	close(release)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("a delivery queued before Close: %v, want committed", err)
		}
	}
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
	entered, release := make(chan struct{}), make(chan struct{})
	var commits atomic.Int32
	db.beforeCommit = func() {
		if commits.Add(1) == 1 {
			entered <- struct{}{}
			<-release
		}
	}
	errs := make(chan error, 8)
	accept := func(n int) {
		ev := pipelineEvent(n, fmt.Sprint("k", n))
		ev.Destinations = []string{"app"}
		_, err := db.Accept(context.Background(), ev)
		errs <- err
	}
	go accept(0)
	<-entered
	for i := 1; i <= 5; i++ {
		go accept(i)
	}
	waitFor(t, "five deliveries queued", func() bool { return len(db.acceptCh) == 5 })
	close(release)
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	go accept(6)
	waitFor(t, "the writer to take the seventh delivery", func() bool { return len(db.acceptCh) == 0 })
	select {
	case err := <-errs:
		t.Fatalf("the delivery after a busy batch was answered (%v) without waiting for a fuller batch", err)
	case <-time.After(50 * time.Millisecond):
	}
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

// A busy batch that queued nothing for the forwarder (an archive-only
// source) is followed at once: nothing lingers.
func TestNoLingerAfterABatchThatQueuedNothing(t *testing.T) {
	db := openTest(t)
	db.linger = time.Hour
	entered, release := make(chan struct{}), make(chan struct{})
	var commits atomic.Int32
	db.beforeCommit = func() {
		if commits.Add(1) == 1 {
			entered <- struct{}{}
			<-release
		}
	}
	errs := make(chan error, 8)
	accept := func(n int) {
		_, err := db.Accept(context.Background(), pipelineEvent(n, fmt.Sprint("k", n)))
		errs <- err
	}
	go accept(0)
	<-entered
	for i := 1; i <= 5; i++ {
		go accept(i)
	}
	waitFor(t, "five deliveries queued", func() bool { return len(db.acceptCh) == 5 })
	close(release)
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	go accept(6)
	select {
	case err := <-errs:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the delivery after a batch that queued nothing waited for a fuller batch")
	}
}
