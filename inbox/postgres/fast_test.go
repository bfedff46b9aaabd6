package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

func accept(t *testing.T, db *DB, ev *inbox.Event) inbox.Result {
	t.Helper()
	r, err := db.Accept(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantDuplicateOf fails the test unless r answers a duplicate of id.
func wantDuplicateOf(t *testing.T, what string, r inbox.Result, id string) {
	t.Helper()
	if !r.Duplicate || r.ID != id {
		t.Fatalf("%s: %+v, want a duplicate of %s", what, r, id)
	}
}

// wantChain fails the test unless db's chain verifies and holds n events.
func wantChain(t *testing.T, db *DB, n int) {
	t.Helper()
	if got := verify(t, db); got != n {
		t.Fatalf("chain of %d events, want %d", got, n)
	}
}

// openWithAdmin opens a DB on a schema of the test's own, and a
// connection of the test's to the same schema.
func openWithAdmin(t *testing.T) (*DB, *pgx.Conn) {
	url := testURL(t)
	return mustOpen(t, url, Options{}), connect(t, url)
}

// After a node's first batch, which locks the chain head and looks its
// keys up, its batches take one round trip, a quick retry of a delivery
// included, and are recorded as the locked path records them.
func TestOneRoundTripAfterTheFirstBatch(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	accept(t, db, event(1, "k1"))
	if n := db.fastDone.Load(); n != 0 {
		t.Fatalf("%d batches took the fast path before the node knew the chain head", n)
	}
	second := accept(t, db, event(2, "k2"))
	wantDuplicateOf(t, "retry", accept(t, db, event(2, "k2")), second.ID)
	if n := db.fastDone.Load(); n != 2 {
		t.Fatalf("%d batches took the fast path, want 2", n)
	}
	s, err := db.Sightings(second.ID)
	if err != nil || s.Count != 1 || len(s.Recent) != 1 || s.Recent[0].DedupKey != "k2" {
		t.Fatalf("sightings of %s: %+v, %v; want the retry", second.ID, s, err)
	}
	wantChain(t, db, 2)
}

// Two nodes taking turns: each finds the head moved by the other and
// takes the locked path, so the chain stays one chain, and a retry that
// reaches the other node is still a duplicate.
func TestTwoNodesTakeTurnsOnTheChain(t *testing.T) {
	url := testURL(t)
	a, b := mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	for i := range 10 {
		accept(t, a, event(2*i, "a"+string(rune('0'+i))))
		accept(t, b, event(2*i+1, "b"+string(rune('0'+i))))
	}
	first := accept(t, a, event(100, "k"))
	wantDuplicateOf(t, "retry on the other node", accept(t, b, event(100, "k")), first.ID)
	wantChain(t, a, 21)
}

// The fast path's hint is checked by the database: a key it remembers
// that the database no longer holds (here deleted by hand) makes the
// delivery a new event, and a key it does not know that the database
// holds makes it a duplicate.
func TestFastPathDefersToTheDatabase(t *testing.T) {
	ctx := context.Background()
	db, admin := openWithAdmin(t)
	first := accept(t, db, event(1, "gone"))
	if _, err := admin.Exec(ctx, "DELETE FROM dedup_keys"); err != nil {
		t.Fatal(err)
	}
	again := accept(t, db, event(1, "gone"))
	if again.Duplicate || again.ID == first.ID {
		t.Fatalf("key deleted: %+v, want a new event", again)
	}
	held := accept(t, db, event(2, "held"))
	db.recent.reset() // as if the key had been claimed long ago
	wantDuplicateOf(t, "key the hint forgot", accept(t, db, event(2, "held")), held.ID)
	wantChain(t, db, 3)
}

// A head moved while a one-round-trip batch waited for the head's lock
// is caught once the lock is granted: the batch is built again on the
// head as it is now.
func TestHeadMovedWhileWaitingForTheLock(t *testing.T) {
	ctx := context.Background()
	db, admin := openWithAdmin(t)
	accept(t, db, event(1, "k1"))
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM chain_head FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		r   inbox.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		r, err := db.Accept(ctx, event(2, "k2"))
		done <- answer{r, err}
	}()
	waitFor(t, "the batch to wait for the chain head", func() bool { return blockedBy(t, tx) != 0 })
	// Another writer's link, as far as the waiting batch can tell.
	moved := strings.Repeat("ab", 32)
	if _, err := tx.Exec(ctx, "UPDATE chain_head SET seq = seq + 1, hash = $1", moved); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.err != nil {
		t.Fatal(a.err)
	}
	ev, err := db.Event(a.r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.PrevHash != moved || ev.Seq != 3 {
		t.Fatalf("the batch built on seq %d after %s, want seq 3 after the moved head %s", ev.Seq, ev.PrevHash, moved)
	}
	if n := db.fastDone.Load(); n != 0 {
		t.Fatalf("%d batches committed on the fast path, want none", n)
	}
}

// A delivery is a duplicate of the event holding its first held key,
// most specific first, on the fast path too: a later key this node
// knows is no answer while an earlier key may be held elsewhere.
func TestFastPathKeepsKeyOrder(t *testing.T) {
	url := testURL(t)
	a, b := mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	ea := event(1, "k1")
	ea.DedupKeys = []string{"k1", "kA"}
	first := accept(t, a, ea)
	eb := event(2, "kB")
	eb.DedupKeys = []string{"kB", "k2"}
	accept(t, b, eb) // b remembers k2 and now holds the newest link
	d := event(3, "k1")
	d.DedupKeys = []string{"k1", "k2"}
	wantDuplicateOf(t, "delivery keyed [k1 k2], k1 held by the first", accept(t, b, d), first.ID)

	// The later key claimed by a batch-mate instead.
	d1, d2 := event(4, "kN"), event(5, "k1")
	d2.DedupKeys = []string{"k1", "kN"}
	reqs := []*acceptReq{
		{ctx: t.Context(), ev: d1, done: make(chan inbox.Answer, 1)},
		{ctx: t.Context(), ev: d2, done: make(chan inbox.Answer, 1)},
	}
	b.commitBatch(reqs) // b's writer is idle: nothing else is accepting
	mate := <-reqs[1].done
	if mate.Err != nil {
		t.Fatal(mate.Err)
	}
	wantDuplicateOf(t, "batch-mate of the holder of kN, k1 held by the first", mate.Result, first.ID)
	if r := <-reqs[0].done; r.Err != nil || r.Result.Duplicate {
		t.Fatalf("first of the batch: %+v, want a new event", r)
	}
}

// A chain head row deleted by hand fails the next batch on either path;
// nothing is committed without a head to extend.
func TestMissingHeadFailsTheBatch(t *testing.T) {
	db, admin := openWithAdmin(t)
	accept(t, db, event(1, "k1"))
	if _, err := admin.Exec(context.Background(), "DELETE FROM chain_head"); err != nil {
		t.Fatal(err)
	}
	if r, err := db.Accept(context.Background(), event(2, "k2")); !errors.Is(err, inbox.ErrNotDurable) {
		t.Fatalf("accept without a head row: %+v, %v; want ErrNotDurable", r, err)
	}
	var n int
	if err := admin.QueryRow(context.Background(), "SELECT count(*) FROM events").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d events stored (%v), want 1", n, err)
	}
}
