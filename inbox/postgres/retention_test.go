package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// acceptAt accepts an event received at at, for destination app, and
// returns it as stored.
func acceptAt(t *testing.T, db *DB, at time.Time) *inbox.Event {
	t.Helper()
	ev := event(0, fmt.Sprint("key-", at.UnixNano()))
	ev.ReceivedAt, ev.InterviewID = at, ""
	if _, err := db.Accept(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// settleAll acks or dead-letters every delivery due, so retention may
// remove their events.
func settleAll(t *testing.T, db *DB, dead bool) {
	t.Helper()
	due, _ := mustClaim(t, db, time.Now(), map[string]int{"app": 100}, time.Minute)
	for _, d := range due {
		var err error
		if dead {
			err = db.DeadLetter(d, nil, "gone")
		} else {
			err = db.Ack(d, inbox.Attempt{Kind: inbox.AttemptSend, At: time.Now()})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Prune removes the oldest settled events, with what hangs off them, and
// records the newest removed link as the chain checkpoint, so the events
// kept still chain on from it; it stops at the first old event with a
// delivery pending, and removes it once settled.
func TestPruneKeepsChainVerifiable(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	old := time.Now().Add(-48 * time.Hour)
	var evs []*inbox.Event
	for i := range 3 {
		evs = append(evs, acceptAt(t, db, old.Add(time.Duration(i)*time.Second)))
	}
	dup := *evs[0]
	dup.ID, dup.Seq = "", 0
	if res, err := db.Accept(context.Background(), &dup); err != nil || !res.Duplicate {
		t.Fatalf("resend: %+v, %v", res, err)
	}
	settleAll(t, db, true)
	evs = append(evs, acceptAt(t, db, old.Add(time.Minute))) // old, pending
	evs = append(evs, acceptAt(t, db, time.Now()))           // young
	cutoff := time.Now().Add(-time.Hour)

	rep, err := db.Prune(cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 3 || rep.HeldBy != evs[3].ID || rep.Checkpoint != evs[2].Seq {
		t.Fatalf("first pass: %+v, want 3 removed, held by %s, checkpoint %d", rep, evs[3].ID, evs[2].Seq)
	}
	seq, hash, err := db.Checkpoint()
	if err != nil || seq != evs[2].Seq || hash != evs[2].Hash {
		t.Fatalf("checkpoint: %d %s, %v; want %d %s", seq, hash, err, evs[2].Seq, evs[2].Hash)
	}
	var id string
	if err := db.pool.QueryRow(context.Background(), `SELECT event_id FROM chain_checkpoint`).Scan(&id); err != nil || id != evs[2].ID {
		t.Fatalf("checkpoint event: %q, %v", id, err)
	}
	if dls, err := db.DeadLetters(inbox.DeadLetterFilter{}); err != nil || len(dls) != 0 {
		t.Fatalf("dead letters of removed events: %+v, %v", dls, err)
	}
	if st := mustDeliveries(t, db, evs[0].ID); len(st) != 0 {
		t.Fatalf("delivery states of a removed event: %+v", st)
	}
	if _, err := db.EventWithBody(evs[0].ID); err == nil {
		t.Fatal("removed event still readable")
	}
	for _, table := range []string{"dedup_keys", "sightings"} {
		var n int
		err := db.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE event_id = ANY($1)`,
			[]string{evs[0].ID, evs[1].ID, evs[2].ID}).Scan(&n)
		if err != nil || n != 0 {
			t.Fatalf("%s of removed events: %d rows, %v", table, n, err)
		}
	}
	if first := firstKept(t, db); first.PrevHash != hash {
		t.Fatalf("first kept event links to %s, not to the checkpoint %s", first.PrevHash, hash)
	}

	settleAll(t, db, false)
	rep, err = db.Prune(cutoff)
	if err != nil || rep.Removed != 1 || rep.HeldBy != "" || rep.Checkpoint != evs[3].Seq {
		t.Fatalf("second pass: %+v, %v", rep, err)
	}
	if first := firstKept(t, db); first.ID != evs[4].ID || first.PrevHash != evs[3].Hash {
		t.Fatalf("kept: %s after %s, want %s after the checkpoint", first.ID, first.PrevHash, evs[4].ID)
	}
}

func firstKept(t *testing.T, db *DB) *inbox.Event {
	t.Helper()
	var id string
	if err := db.pool.QueryRow(context.Background(), `SELECT id FROM events ORDER BY seq LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	ev, err := db.EventWithBody(id)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// With Options.Retention a node prunes on its own, under Lead.
func TestRetentionLoop(t *testing.T) {
	url := testURL(t)
	db := mustOpen(t, url, Options{})
	ev := acceptAt(t, db, time.Now().Add(-48*time.Hour))
	settleAll(t, db, false)
	pruner := mustOpen(t, url, Options{Retention: time.Hour})
	waitFor(t, "retention to remove the old event", func() bool {
		seq, _, err := pruner.Checkpoint()
		return err == nil && seq == ev.Seq
	})
}

// A pass whose context has ended (its node no longer leads for
// retention) removes nothing.
func TestPruneStopsWithItsContext(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	old := time.Now().Add(-48 * time.Hour)
	for i := range 3 {
		acceptAt(t, db, old.Add(time.Duration(i)*time.Second))
	}
	settleAll(t, db, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if rep, err := db.prune(ctx, time.Now().Add(-time.Hour)); err == nil || rep.Removed != 0 {
		t.Fatalf("prune with its context ended: %+v, %v; want an error and nothing removed", rep, err)
	}
	rep, err := db.prune(context.Background(), time.Now().Add(-time.Hour))
	if err != nil || rep.Removed != 3 {
		t.Fatalf("prune: %+v, %v; want 3 removed", rep, err)
	}
}

// Prune removes every dedup key its events still hold: found by hash,
// or by event id for keys the archive stores repaired (a NUL, invalid
// UTF-8), and leaves a key that a newer event claimed once the old
// claim expired.
func TestPruneRemovesTheKeysItsEventsHold(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().Add(-48 * time.Hour).UnixNano())
	db := mustOpen(t, testURL(t), Options{DedupWindow: time.Hour, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	accept := func(keys ...string) *inbox.Event {
		t.Helper()
		ev := event(0, "")
		ev.DedupKeys, ev.Destinations, ev.ReceivedAt = keys, nil, time.Unix(0, clock.Load())
		if res, err := db.Accept(context.Background(), ev); err != nil || res.Duplicate {
			t.Fatalf("accept %q: %+v, %v", keys, res, err)
		}
		return ev
	}
	old := []*inbox.Event{
		accept("plain", "second"),
		accept("nul\x00"),
		accept("bad\xff"),
		accept("genuine \uFFFD", "twice", "twice"),
		accept("reclaimed"),
	}
	clock.Store(time.Now().UnixNano()) // every old key has expired
	young := accept("reclaimed")

	rep, err := db.Prune(time.Now().Add(-time.Hour))
	if err != nil || rep.Removed != len(old) {
		t.Fatalf("prune: %+v, %v; want %d removed", rep, err, len(old))
	}
	var left []string
	rows, _ := db.pool.Query(context.Background(), `SELECT key || ' of ' || event_id FROM dedup_keys ORDER BY key`)
	left, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if want := []string{"reclaimed of " + young.ID}; err != nil || !slices.Equal(left, want) {
		t.Fatalf("dedup keys left: %q, %v; want %q", left, err, want)
	}
}
