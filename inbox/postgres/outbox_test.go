package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// queueEvent accepts an event for dests in interview iv ("" for none)
// and returns its id.
func queueEvent(t *testing.T, db *DB, iv string, dests ...string) string {
	t.Helper()
	ev := event(0, fmt.Sprint("key-", time.Now().UnixNano(), "-", iv, dests))
	ev.InterviewID, ev.Destinations = iv, dests
	r, err := db.Accept(context.Background(), ev)
	if err != nil || r.Duplicate {
		t.Fatalf("accept: %+v, %v", r, err)
	}
	return r.ID
}

func mustClaim(t *testing.T, db *DB, now time.Time, want map[string]int, lease time.Duration) ([]inbox.Delivery, time.Time) {
	t.Helper()
	due, next, err := db.Claim(now, want, lease)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return due, next
}

func ids(ds []inbox.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.EventID + "/" + d.Destination
	}
	return out
}

func sameIDs(t *testing.T, what string, got []inbox.Delivery, want ...string) {
	t.Helper()
	if g := ids(got); !slices.Equal(g, want) {
		t.Fatalf("%s: claimed %v, want %v", what, g, want)
	}
}

// One node: Claim gives each interview's first delivery, only for the
// destinations asked, and leases it; Ack, Retry and DeadLetter settle;
// a settled or moved delivery cannot be settled again; Replay queues a
// dead letter again with its history; Release gives a claim back.
func TestClaimSettleReplay(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	a1 := queueEvent(t, db, "iv-a", "app", "crm")
	a2 := queueEvent(t, db, "iv-a", "app")
	b1 := queueEvent(t, db, "iv-b", "app")
	c1 := queueEvent(t, db, "", "app")
	const lease = time.Minute
	now := time.Now()

	due, _ := mustClaim(t, db, now, map[string]int{"app": 2}, lease)
	sameIDs(t, "first claim", due, a1+"/app", b1+"/app")
	due2, _ := mustClaim(t, db, now, map[string]int{"app": 5}, lease)
	sameIDs(t, "second claim", due2, c1+"/app") // a2 waits behind a1; a1 and b1 are leased

	if err := db.Ack(due[0], inbox.Attempt{Kind: inbox.AttemptSend, At: now, Number: 1, Status: 200}); err != nil {
		t.Fatal(err)
	}
	if err := db.Ack(due[0], inbox.Attempt{}); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("second ack: got %v, want ErrNotFound", err)
	}
	due3, _ := mustClaim(t, db, now, map[string]int{"app": 5}, lease)
	sameIDs(t, "after ack", due3, a2+"/app")

	later := now.Add(time.Hour)
	if err := db.Retry(due3[0], later, &inbox.Attempt{Kind: inbox.AttemptSend, At: now, Status: 503}); err != nil {
		t.Fatal(err)
	}
	if err := db.Retry(due3[0], later, nil); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("retry of a moved delivery: got %v, want ErrNotFound", err)
	}
	due4, next := mustClaim(t, db, now, map[string]int{"app": 5}, lease)
	sameIDs(t, "after retry", due4)
	if want := now.Add(lease).Truncate(time.Microsecond); !next.Equal(want) {
		t.Fatalf("next: got %v, want %v, when the leases of b1 and c1 end (before a2's retry)", next, want)
	}
	st := mustDeliveries(t, db, a2)
	if len(st) != 1 || st[0].Status != inbox.DeliveryPending || st[0].Attempts != 1 || st[0].LastError != "status 503" {
		t.Fatalf("a2 after retry: %+v", st)
	}

	if err := db.DeadLetter(due[1], &inbox.Attempt{Kind: inbox.AttemptSend, At: now, Status: 400}, "status 400"); err != nil {
		t.Fatal(err)
	}
	dls, err := db.DeadLetters(inbox.DeadLetterFilter{Destination: "app", Type: "interview.*"})
	if err != nil || len(dls) != 1 || dls[0].EventID != b1 || dls[0].Attempts != 1 || dls[0].LastStatus != 400 || dls[0].Source != "koji" {
		t.Fatalf("dead letters: %+v, %v", dls, err)
	}
	queued, err := db.Replay(b1, "", inbox.ReplayRequest{By: "fp", Reason: "fixed"})
	if err != nil || !slices.Equal(queued, []string{"app"}) {
		t.Fatalf("replay: %v, %v", queued, err)
	}
	if q, err := db.Replay(b1, "", inbox.ReplayRequest{}); err != nil || len(q) != 0 {
		t.Fatalf("replay of a pending delivery: %v, %v", q, err)
	}
	if _, err := db.Replay(b1, "nowhere", inbox.ReplayRequest{}); !errors.Is(err, inbox.ErrNotForwardable) {
		t.Fatalf("replay to a destination it lacks: %v", err)
	}
	if dls, _ := db.DeadLetters(inbox.DeadLetterFilter{}); len(dls) != 0 {
		t.Fatalf("dead letters after replay: %+v", dls)
	}
	now = time.Now() // the replay queued it due when it ran
	due5, _ := mustClaim(t, db, now, map[string]int{"app": 5}, lease)
	sameIDs(t, "after replay", due5, b1+"/app")
	if due5[0].Total != 1 || due5[0].Attempts != 0 {
		t.Fatalf("replayed delivery: %+v, want total 1 and attempts 0", due5[0])
	}
	at, err := db.Attempts(b1)
	if err != nil || len(at) != 2 || at[0].Outcome != inbox.OutcomeDead || at[1].Kind != inbox.AttemptReplay ||
		at[1].By != "fp" || at[1].N != 2 || at[1].Destination != "app" {
		t.Fatalf("b1 history: %+v, %v", at, err)
	}

	db.Release(due5[0])
	due6, _ := mustClaim(t, db, now, map[string]int{"app": 5}, lease)
	sameIDs(t, "after release", due6, b1+"/app")

	st = mustDeliveries(t, db, a1)
	if len(st) != 2 || st[0].Destination != "app" || st[0].Status != inbox.DeliveryDelivered ||
		st[1].Destination != "crm" || st[1].Status != inbox.DeliveryPending {
		t.Fatalf("a1 deliveries: %+v", st)
	}
	crm, _ := mustClaim(t, db, now, map[string]int{"crm": 5}, lease)
	sameIDs(t, "crm, never asked for before", crm, a1+"/crm")
}

func mustDeliveries(t *testing.T, db *DB, id string) []inbox.DeliveryState {
	t.Helper()
	st, err := db.Deliveries(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Two nodes claiming the same outbox at once never get the same
// delivery while its lease holds, and between them get every one.
func TestTwoNodesClaimDisjoint(t *testing.T) {
	url := testURL(t)
	a, b := mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	const n = 120
	for i := range n {
		queueEvent(t, a, fmt.Sprint("iv-", i), "app")
	}
	now := time.Now()
	got := make([][]string, 2)
	var wg sync.WaitGroup
	for i, db := range []*DB{a, b} {
		wg.Go(func() {
			for {
				due, _, err := db.Claim(now, map[string]int{"app": 7}, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(due) == 0 {
					return
				}
				got[i] = append(got[i], ids(due)...)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, g := range got {
		for _, id := range g {
			if seen[id] {
				t.Fatalf("%s claimed twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("claimed %d deliveries, want %d", len(seen), n)
	}
}

// A node that dies holding claims keeps them until their lease passes;
// then another node claims them, and the dead node's late settle fails.
func TestDeadNodeLeasePasses(t *testing.T) {
	url := testURL(t)
	a, b := mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	x := queueEvent(t, a, "iv-1", "app")
	y := queueEvent(t, a, "", "app")
	now := time.Now()
	const lease = time.Minute
	held, _ := mustClaim(t, a, now, map[string]int{"app": 10}, lease)
	sameIDs(t, "node a", held, x+"/app", y+"/app")
	a.Close()

	due, next := mustClaim(t, b, now.Add(lease/2), map[string]int{"app": 10}, lease)
	sameIDs(t, "node b while the lease holds", due)
	if want := now.Add(lease).Truncate(time.Microsecond); !next.Equal(want) {
		t.Fatalf("next: got %v, want the lease's end %v", next, want)
	}
	due, _ = mustClaim(t, b, now.Add(lease), map[string]int{"app": 10}, lease)
	sameIDs(t, "node b once the lease passed", due, x+"/app", y+"/app")
	if err := b.Ack(due[0], inbox.Attempt{Kind: inbox.AttemptSend, At: now}); err != nil {
		t.Fatal(err)
	}
	if err := b.Ack(held[0], inbox.Attempt{}); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("late settle of the dead node's claim: got %v, want ErrNotFound", err)
	}
}

// The deliveries of one interview go one at a time, in order, whichever
// node claims them.
func TestInterviewOrderAcrossNodes(t *testing.T) {
	url := testURL(t)
	nodes := []*DB{mustOpen(t, url, Options{}), mustOpen(t, url, Options{})}
	var want []string
	for range 5 {
		want = append(want, queueEvent(t, nodes[0], "iv-1", "app"))
	}
	now := time.Now()
	var got []string
	for i := 0; len(got) < len(want); i++ {
		claimer, other := nodes[i%2], nodes[(i+1)%2]
		due, _ := mustClaim(t, claimer, now, map[string]int{"app": 10}, time.Hour)
		if len(due) != 1 {
			t.Fatalf("claim %d: got %v, want one delivery", i, ids(due))
		}
		if more, _ := mustClaim(t, other, now, map[string]int{"app": 10}, time.Hour); len(more) != 0 {
			t.Fatalf("claim %d: the other node got %v while %s is in flight", i, ids(more), due[0].EventID)
		}
		if err := claimer.Ack(due[0], inbox.Attempt{Kind: inbox.AttemptSend, At: now}); err != nil {
			t.Fatal(err)
		}
		got = append(got, due[0].EventID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order: got %v, want %v", got, want)
	}
}

// A commit on one node wakes the other: an accept, a replay and a retry
// due at once.
func TestWakeAcrossNodes(t *testing.T) {
	url := testURL(t)
	a, b := mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	waitWake := func(what string) {
		t.Helper()
		select {
		case <-b.Wake():
		case <-t.Context().Done():
			t.Fatalf("node b never woke after %s", what)
		}
	}
	waitWake("its listener connected") // it signals once on connecting
	id := queueEvent(t, a, "", "app")
	waitWake("an accept on node a")

	now := time.Now()
	due, _ := mustClaim(t, a, now, map[string]int{"app": 1}, time.Hour)
	drain(b)
	if err := a.Retry(due[0], now, &inbox.Attempt{Kind: inbox.AttemptSend, At: now}); err != nil {
		t.Fatal(err)
	}
	waitWake("a retry due at once on node a")

	due, _ = mustClaim(t, a, now, map[string]int{"app": 1}, time.Hour)
	if err := a.DeadLetter(due[0], nil, "gone"); err != nil {
		t.Fatal(err)
	}
	drain(b)
	if _, err := a.Replay(id, "", inbox.ReplayRequest{}); err != nil {
		t.Fatal(err)
	}
	waitWake("a replay on node a")
}

// The listener connects again after losing its connection, and wakes
// its node once it has: notifications sent meanwhile are lost.
func TestWakeAfterListenerLost(t *testing.T) {
	url := testURL(t)
	a, b := mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	select {
	case <-b.Wake(): // its listener is listening
	case <-t.Context().Done():
		t.Fatal("node b's listener never connected")
	}
	var killed int
	err := connect(t, url).QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND query = $1`, "LISTEN "+`"`+b.channel+`"`).Scan(&killed)
	if err != nil || killed != 2 {
		t.Fatalf("killed %d listeners, want both nodes': %v", killed, err)
	}
	select {
	case <-b.Wake():
	case <-t.Context().Done():
		t.Fatal("node b's listener never connected again")
	}
	queueEvent(t, a, "", "app")
	select {
	case <-b.Wake():
	case <-t.Context().Done():
		t.Fatal("node b not woken by an accept after its listener came back")
	}
}

// drain takes a pending signal, if any, off db's Wake: what was sent
// before it is not what the caller waits for.
func drain(db *DB) {
	select {
	case <-db.Wake():
	default:
	}
}

// OutboxStats counts the backlog per destination across nodes.
func TestOutboxStats(t *testing.T) {
	url := testURL(t)
	a, b := mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	first := queueEvent(t, a, "", "app", "crm")
	queueEvent(t, b, "", "app")
	st, err := b.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	if st["app"].Depth != 2 || st["crm"].Depth != 1 || !st["app"].Oldest.Equal(inbox.IDTime(first)) || len(st) != 2 {
		t.Fatalf("stats: %+v", st)
	}
}

// ReplayDead queues again the dead letters its filter selects, up to its
// limit, and leaves the others.
func TestReplayDead(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	for range 3 {
		queueEvent(t, db, "", "app", "crm")
	}
	now := time.Now()
	due, _ := mustClaim(t, db, now, map[string]int{"app": 10, "crm": 10}, time.Minute)
	for _, d := range due {
		if err := db.DeadLetter(d, nil, "gone"); err != nil {
			t.Fatal(err)
		}
	}
	after := time.Now()
	if dls, err := db.DeadLetters(inbox.DeadLetterFilter{Until: now}); err != nil || len(dls) != 0 {
		t.Fatalf("dead letters before any was made: %+v, %v", dls, err)
	}
	if dls, err := db.DeadLetters(inbox.DeadLetterFilter{Source: "other"}); err != nil || len(dls) != 0 {
		t.Fatalf("dead letters of another source: %+v, %v", dls, err)
	}
	// A destination no forwarder serves is counted and left as it is.
	appGone := func(name string) bool { return name != "app" }
	n, err := db.ReplayDead(inbox.DeadLetterFilter{Destination: "app"}, inbox.ReplayRequest{By: "fp", Serves: appGone})
	if err != nil || n != (inbox.BulkReplay{NotConfigured: 3}) {
		t.Fatalf("replay dead to a removed destination: %+v, %v", n, err)
	}
	n, err = db.ReplayDead(inbox.DeadLetterFilter{Destination: "crm", Limit: 2}, inbox.ReplayRequest{By: "fp", Serves: appGone})
	if err != nil || n != (inbox.BulkReplay{Queued: 2}) {
		t.Fatalf("replay dead: %+v, %v", n, err)
	}
	left, err := db.DeadLetters(inbox.DeadLetterFilter{Until: after.Add(time.Second)})
	if err != nil || len(left) != 4 {
		t.Fatalf("dead letters left: %d, %v; want 3 app and 1 crm", len(left), err)
	}
	requeued, _ := mustClaim(t, db, time.Now(), map[string]int{"app": 10, "crm": 10}, time.Minute)
	if len(requeued) != 2 || requeued[0].Destination != "crm" || requeued[1].Destination != "crm" {
		t.Fatalf("claimed after replay: %v", ids(requeued))
	}
	// One event: the removed destination is left out, or refused by name.
	var id string // an event dead for both destinations
	for _, dl := range left {
		if dl.Destination == "crm" {
			id = dl.EventID
		}
	}
	if q, err := db.Replay(id, "", inbox.ReplayRequest{By: "fp", Serves: appGone}); err != nil || len(q) != 1 || q[0] != "crm" {
		t.Errorf("replay of %s with app gone: %v, %v; want crm only", id, q, err)
	}
	if q, err := db.Replay(id, "app", inbox.ReplayRequest{By: "fp", Serves: appGone}); !errors.Is(err, inbox.ErrNotForwardable) {
		t.Errorf("replay of %s to removed app: %v, %v; want ErrNotForwardable", id, q, err)
	}
}

// A node whose lease lapsed while it sent, and whose delivery another
// node claimed since, settles nothing of the new claim: its late Retry
// due at once does not free the row for a third node, and its late Ack
// records the send in the history but leaves the row, so the
// interview's next event waits and the new claim's Ack is the one that
// settles.
func TestLateSettleOfRetakenClaim(t *testing.T) {
	url := testURL(t)
	a, b, c := mustOpen(t, url, Options{}), mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	x := queueEvent(t, a, "iv-late", "app")
	y := queueEvent(t, a, "iv-late", "app")
	const lease = time.Minute
	now := time.Now()
	app := map[string]int{"app": 10}
	old, _ := mustClaim(t, a, now, app, lease)
	sameIDs(t, "node a", old, x+"/app")
	at := now.Add(2 * lease)
	cur, _ := mustClaim(t, b, at, app, lease)
	sameIDs(t, "node b after a's lease", cur, x+"/app")

	err := a.Retry(old[0], at, &inbox.Attempt{Kind: inbox.AttemptSend, At: now, Status: 503})
	if !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("late retry: got %v, want ErrNotFound", err)
	}
	due, _ := mustClaim(t, c, at, app, lease)
	sameIDs(t, "node c after the late retry", due)

	if err := a.Ack(old[0], inbox.Attempt{Kind: inbox.AttemptSend, At: now, Status: 200}); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("late ack: got %v, want ErrNotFound", err)
	}
	hist, err := a.Attempts(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) == 0 || hist[len(hist)-1].Outcome != inbox.OutcomeDelivered {
		t.Fatalf("history after the late ack: %+v, want its send last", hist)
	}
	due, _ = mustClaim(t, c, at, app, lease)
	sameIDs(t, "node c after the late ack", due)

	if err := b.Ack(cur[0], inbox.Attempt{Kind: inbox.AttemptSend, At: at, Status: 200}); err != nil {
		t.Fatalf("ack of the new claim: %v", err)
	}
	if st := mustDeliveries(t, a, x); len(st) != 1 || st[0].Status != inbox.DeliveryDelivered {
		t.Fatalf("delivery state: %+v, want delivered", st)
	}
	due, _ = mustClaim(t, c, at, app, lease)
	sameIDs(t, "node c after the new claim's ack", due, y+"/app")
}

// Settling the head of an interview wakes every node: the next event of
// the interview is due now.
func TestAckOfInterviewHeadWakes(t *testing.T) {
	url := testURL(t)
	a, b := mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	waitWake := func(what string) {
		t.Helper()
		select {
		case <-b.Wake():
		case <-t.Context().Done():
			t.Fatalf("node b never woke after %s", what)
		}
	}
	waitWake("its listener connected")
	queueEvent(t, a, "iv-head", "app", "crm")
	waitWake("an accept on node a")
	queueEvent(t, a, "iv-head", "app", "crm")
	waitWake("a second accept on node a")
	now := time.Now()
	due, _ := mustClaim(t, a, now, map[string]int{"app": 1, "crm": 1}, time.Hour)
	if len(due) != 2 {
		t.Fatalf("claim: %v, want the head for app and crm", ids(due))
	}
	if err := a.Ack(due[0], inbox.Attempt{Kind: inbox.AttemptSend, At: now, Status: 200}); err != nil {
		t.Fatal(err)
	}
	waitWake("an ack of an interview's head")
	if err := a.DeadLetter(due[1], nil, "gone"); err != nil {
		t.Fatal(err)
	}
	waitWake("a dead letter of an interview's head")
}

// A Claim that fails after its leases were written (here, a row it
// cannot read back) clears them, so the rows go to the next claim rather
// than wait out a lease nobody works.
func TestFailedClaimClearsItsLeases(t *testing.T) {
	url := testURL(t)
	db := mustOpen(t, url, Options{})
	x := queueEvent(t, db, "", "app")
	y := queueEvent(t, db, "", "app")
	admin := connect(t, url)
	if _, err := admin.Exec(context.Background(), `UPDATE outbox SET due_at = '-infinity' WHERE event_id = $1`, x); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Claim(time.Now(), map[string]int{"app": 10}, time.Hour); err == nil {
		t.Fatal("claim of an unreadable row: no error")
	}
	var leased int
	if err := admin.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL`).Scan(&leased); err != nil {
		t.Fatal(err)
	}
	if leased != 0 {
		t.Fatalf("%d rows leased after the failed claim, want none", leased)
	}
	if _, err := admin.Exec(context.Background(), `UPDATE outbox SET due_at = now() WHERE event_id = $1`, x); err != nil {
		t.Fatal(err)
	}
	due, _ := mustClaim(t, db, time.Now(), map[string]int{"app": 10}, time.Hour)
	sameIDs(t, "the next claim", due, y+"/app", x+"/app") // x is due later now
}
