package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

func event(n int, key string) *inbox.Event {
	return &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: fmt.Sprint("iv-", n),
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(),
		BodySHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		DedupKeys:  []string{key}, Destinations: []string{"app"},
	}
}

// waitFor polls cond until it holds: the condition is the
// synchronisation, the pause only keeps the loop from spinning.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// One delivery the database refuses (here a CHECK constraint) fails
// alone; the deliveries it was batched with are committed, and the chain
// has no gap.
func TestRefusedDeliveryFailsAlone(t *testing.T) {
	ctx := context.Background()
	url := testURL(t)
	db := mustOpen(t, url, Options{})
	admin := connect(t, url)
	if _, err := admin.Exec(ctx, "ALTER TABLE events ADD CONSTRAINT no_poison CHECK (type <> 'poison')"); err != nil {
		t.Fatal(err)
	}
	// Hold the chain head so the writer blocks in its first batch while
	// the others queue up behind it, to be committed as one batch.
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM chain_head FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	results, errs := make([]inbox.Result, n), make([]error, n)
	var wg sync.WaitGroup
	accept := func(i int) {
		ev := event(i, fmt.Sprint("k", i))
		if i == n/2 {
			ev.Type = "poison"
		}
		wg.Go(func() { results[i], errs[i] = db.Accept(ctx, ev) })
	}
	accept(0)
	waitFor(t, "the writer to wait for the chain head", func() bool {
		return blockedBy(t, tx) != 0
	})
	for i := 1; i < n; i++ {
		accept(i)
	}
	waitFor(t, "the deliveries to queue", func() bool { return len(db.acceptCh) == n-1 })
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := range n {
		switch {
		case i == n/2:
			if !errors.Is(errs[i], inbox.ErrNotDurable) || !strings.Contains(errs[i].Error(), "23514") {
				t.Errorf("poison delivery: got %v, want ErrNotDurable naming SQLSTATE 23514", errs[i])
			}
		case errs[i] != nil || results[i].Duplicate:
			t.Errorf("delivery %d: %+v, %v", i, results[i], errs[i])
		}
	}
	if got := verify(t, db); got != n-1 {
		t.Fatalf("chain holds %d events, want %d", got, n-1)
	}
}

// blockedBy returns the backend waiting for a lock tx holds, 0 if none.
// Only this test's writer can be: tx locks a table of the test's own
// schema.
func blockedBy(t *testing.T, tx pgx.Tx) int32 {
	t.Helper()
	var pid int32
	err := tx.QueryRow(context.Background(),
		"SELECT coalesce(min(pid), 0) FROM pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))").Scan(&pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// verify checks the stored chain and returns its length.
func verify(t *testing.T, db *DB) int {
	t.Helper()
	var prev *inbox.Record
	n := 0
	err := db.Export(context.Background(), time.Time{}, time.Time{}, func(r inbox.Record) error {
		if inbox.ChainHash(r.Event) != r.Hash {
			return fmt.Errorf("seq %d: hash does not match its content", r.Seq)
		}
		if prev != nil && (r.PrevHash != prev.Hash || r.Seq != prev.Seq+1) {
			return fmt.Errorf("seq %d does not follow seq %d", r.Seq, prev.Seq)
		}
		prev, n = &r, n+1
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Once its window has passed, a dedup key is taken by the next delivery
// that claims it.
func TestDedupWindowPasses(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db := mustOpen(t, testURL(t), Options{DedupWindow: time.Hour, Now: clock})
	ctx := context.Background()
	first, err := db.Accept(ctx, event(1, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := db.Accept(ctx, event(1, "k")); err != nil || !r.Duplicate {
		t.Fatalf("within the window: %+v, %v", r, err)
	}
	mu.Lock()
	now = now.Add(time.Hour + time.Second)
	mu.Unlock()
	r, err := db.Accept(ctx, event(1, "k"))
	if err != nil || r.Duplicate || r.ID == first.ID {
		t.Fatalf("after the window: %+v, %v; want a new event", r, err)
	}
	if d, err := db.Accept(ctx, event(1, "k")); err != nil || d.ID != r.ID || !d.Duplicate {
		t.Fatalf("the key's new holder: %+v, %v; want a duplicate of %s", d, err, r.ID)
	}
}

// A delivery withdrawn before its batch began is not written; Accept on a
// closed DB says ErrClosed.
func TestWithdrawnAndClosed(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.Accept(ctx, event(1, "k")); !errors.Is(err, inbox.ErrNotDurable) {
		t.Fatalf("withdrawn: got %v, want ErrNotDurable", err)
	}
	if r, err := db.Accept(context.Background(), event(1, "k")); err != nil || r.Duplicate {
		t.Fatalf("after a withdrawn delivery: %+v, %v; want a new event", r, err)
	}
	db.Close()
	if _, err := db.Accept(context.Background(), event(2, "k2")); !errors.Is(err, inbox.ErrClosed) {
		t.Fatalf("closed: got %v, want ErrClosed", err)
	}
}

// NUL bytes, which text columns refuse, are stored as U+FFFD and the
// chain hash covers the stored form; the dedup key still matches on its
// exact bytes.
func TestNULStoredAsReplacement(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	ctx := context.Background()
	ev := event(1, "key\x00one")
	ev.InterviewID = "iv\x00"
	r, err := db.Accept(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if ev.InterviewID != "iv\uFFFD" || inbox.ChainHash(ev) != ev.Hash {
		t.Fatalf("stored interview id %q, hash ok %v", ev.InterviewID, inbox.ChainHash(ev) == ev.Hash)
	}
	if d, err := db.Accept(ctx, event(2, "key\uFFFDone")); err != nil || d.Duplicate {
		t.Fatalf("a different key that reads the same once stored: %+v, %v", d, err)
	}
	if d, err := db.Accept(ctx, event(3, "key\x00one")); err != nil || !d.Duplicate || d.ID != r.ID {
		t.Fatalf("the same key: %+v, %v", d, err)
	}
}

// Invalid UTF-8, which text columns refuse as well, is stored as the
// archive's JSON stores it, in every text field a sender can reach (a
// Content-Type header is the sender's to write) and in a duplicate's
// sighting; the chain still verifies.
func TestInvalidUTF8StoredAsReplacement(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	ctx := context.Background()
	ev := event(1, "key-\xff")
	ev.ContentType, ev.RemoteAddr, ev.RequestID = "application/json; x=\xff", "10.0.0.1\xfe", "req-\xc3"
	if _, err := db.Accept(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if ev.ContentType != "application/json; x=\uFFFD" || ev.RemoteAddr != "10.0.0.1\uFFFD" || ev.RequestID != "req-\uFFFD" {
		t.Fatalf("stored %q %q %q", ev.ContentType, ev.RemoteAddr, ev.RequestID)
	}
	dup := event(2, "key-\xff")
	dup.RemoteAddr, dup.RequestID = "10.0.0.2\xff", "req-\xff"
	if d, err := db.Accept(ctx, dup); err != nil || !d.Duplicate || d.ID != ev.ID {
		t.Fatalf("resend: %+v, %v", d, err)
	}
	got, err := db.EventWithBody(ev.ID)
	if err != nil || got.ContentType != ev.ContentType || inbox.ChainHash(got) != ev.Hash {
		t.Fatalf("read back %q, hash ok %v, %v", got.ContentType, err == nil && inbox.ChainHash(got) == ev.Hash, err)
	}
	if rep, err := db.Verify(ctx); err != nil || !rep.OK || rep.Checked != 1 {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

// A batch whose connection dies before COMMIT is answered ErrNotDurable
// and leaves nothing behind; the node goes on with a new connection, and
// the same delivery sent again is new.
func TestConnectionLostMidBatch(t *testing.T) {
	ctx := context.Background()
	url := testURL(t)
	db := mustOpen(t, url, Options{})
	admin := connect(t, url)
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM chain_head FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.Accept(ctx, event(1, "lost"))
		done <- err
	}()
	var pid int32
	waitFor(t, "the writer to wait for the chain head", func() bool {
		pid = blockedBy(t, tx)
		return pid != 0
	})
	if _, err := tx.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, inbox.ErrNotDurable) {
		t.Fatalf("accept on a lost connection: got %v, want ErrNotDurable", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := db.Accept(ctx, event(1, "lost"))
	if err != nil || r.Duplicate {
		t.Fatalf("the same delivery again: %+v, %v; want a new event", r, err)
	}
	if n := verify(t, db); n != 1 {
		t.Fatalf("chain holds %d events, want 1", n)
	}
}

// A dedup key insert meeting a stored key is told apart from other
// refusals: it sends the batch back to its lookup instead of failing it.
func TestKeyHeldIsTheDedupPrimaryKey(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, testURL(t), Options{})
	res, err := db.Accept(ctx, event(1, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	try := func(key, eventID string) error {
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		ref := refOf("koji", key)
		_, err = tx.Exec(ctx, insertDedup, []string{"koji"}, [][]byte{ref.hash[:]}, []string{key}, []string{eventID},
			[]time.Time{time.Now().Add(time.Hour)})
		return err
	}
	if err := try("k1", res.ID); !keyHeld(err) {
		t.Fatalf("same key again: %v, want a held key", err)
	}
	if err := try("k2\x00", res.ID); err == nil || keyHeld(err) {
		t.Fatalf("NUL in a text column: %v, want another refusal", err)
	}
}

// Accept, duplicates and retention work whichever way the database URL
// tells pgx to send queries, PgBouncer's simple protocol included.
func TestEveryQueryExecMode(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			db := mustOpen(t, testURL(t)+"&default_query_exec_mode="+mode, Options{})
			ev := acceptAt(t, db, time.Now().Add(-48*time.Hour))
			dup := event(2, ev.DedupKeys[0])
			if r, err := db.Accept(ctx, dup); err != nil || !r.Duplicate || r.ID != ev.ID {
				t.Fatalf("resend: %+v, %v", r, err)
			}
			settleAll(t, db, true)
			if rep, err := db.Prune(time.Now().Add(-time.Hour)); err != nil || rep.Removed != 1 {
				t.Fatalf("prune: %+v, %v", rep, err)
			}
		})
	}
}
