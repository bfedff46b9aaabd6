package inboxtest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// openOutbox opens a store for an outbox case.
func openOutbox(t *testing.T, e Engine) Store {
	t.Helper()
	return open(t, e)
}

// later is a claim time after everything the cases queue is due.
func later() time.Time { return time.Now().Add(time.Hour) }

func mustClaim(t *testing.T, s Store, now time.Time, want map[string]int, lease time.Duration) []inbox.Delivery {
	t.Helper()
	due, _, err := s.Claim(now, want, lease)
	if err != nil {
		t.Fatalf("claim %v: %v", want, err)
	}
	return due
}

// ids lists the event ids of ds, as "<id>/<destination>".
func ids(ds []inbox.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.EventID + "/" + d.Destination
	}
	return out
}

func sent(at time.Time) inbox.Attempt {
	return inbox.Attempt{Kind: inbox.AttemptSend, At: at, Status: 503, Error: "status 503"}
}

// What Claim returns is not returned again while the claim holds; a
// release, a settle or the lease passing ends the claim.
func testClaimHolds(t *testing.T, e Engine) {
	s := openOutbox(t, e)
	for i := range 3 {
		mustAccept(t, s, delivery(i, fmt.Sprint("hold-", i)))
	}
	now, app := later(), map[string]int{"app": 10}
	got := mustClaim(t, s, now, app, time.Minute)
	if len(got) != 3 {
		t.Fatalf("first claim: %v, want 3 entries", ids(got))
	}
	if again := mustClaim(t, s, now, app, time.Minute); len(again) != 0 {
		t.Fatalf("claimed twice: %v", ids(again))
	}
	s.Release(got[0])
	if again := mustClaim(t, s, now, app, time.Minute); len(again) != 1 || again[0].EventID != got[0].EventID {
		t.Fatalf("after a release: %v, want %s only", ids(again), got[0].EventID)
	}
	if err := s.Ack(got[1], sent(now)); err != nil {
		t.Fatal(err)
	}
	if again := mustClaim(t, s, now, app, time.Minute); len(again) != 0 {
		t.Fatalf("after an ack: %v, want none", ids(again))
	}
	// Past the lease every claim has lapsed; the acked entry is gone.
	again := mustClaim(t, s, now.Add(2*time.Minute), app, time.Minute)
	if len(again) != 2 || again[0].EventID == got[1].EventID || again[1].EventID == got[1].EventID {
		t.Fatalf("after the lease: %v, want the two unsettled of %v", ids(again), ids(got))
	}
}

// Claim returns at most want[dest] per destination and leaves the
// destinations not in want alone.
func testClaimWant(t *testing.T, e Engine) {
	s := openOutbox(t, e)
	for i := range 5 {
		mustAccept(t, s, delivery(i, fmt.Sprint("want-", i)))
	}
	now := later()
	got := mustClaim(t, s, now, map[string]int{"app": 2, "nowhere": 4}, time.Minute)
	if len(got) != 2 || got[0].Destination != "app" || got[1].Destination != "app" {
		t.Fatalf("claim of 2 for app: %v", ids(got))
	}
	if audit := mustClaim(t, s, now, map[string]int{"audit": 10}, time.Minute); len(audit) != 5 {
		t.Fatalf("audit, untouched by app's claim: %v, want 5", ids(audit))
	}
	if rest := mustClaim(t, s, now, map[string]int{"app": 10, "audit": 0}, time.Minute); len(rest) != 3 {
		t.Fatalf("rest of app: %v, want 3", ids(rest))
	}
}

// Only the earliest queued event of an interview goes to a destination,
// also while it waits for a retry; the next goes once it is settled.
func testClaimInterviewOrder(t *testing.T, e Engine) {
	s := openOutbox(t, e)
	var iv []string
	for i := range 3 {
		iv = append(iv, mustAccept(t, s, delivery(1, fmt.Sprint("order-", i))).ID)
	}
	other := mustAccept(t, s, delivery(2, "order-other")).ID
	now, app := later(), map[string]int{"app": 10}
	got := mustClaim(t, s, now, app, time.Minute)
	if len(got) != 2 || got[0].EventID != iv[0] || got[1].EventID != other {
		t.Fatalf("claim: %v, want %s and %s", ids(got), iv[0], other)
	}
	retryAt := now.Add(time.Hour)
	if err := s.Retry(got[0], retryAt, &inbox.Attempt{Kind: inbox.AttemptSend, At: now, Status: 503}); err != nil {
		t.Fatal(err)
	}
	s.Release(got[1])
	again, next, err := s.Claim(now, app, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].EventID != other {
		t.Fatalf("with the head waiting for a retry: %v, want %s only", ids(again), other)
	}
	if next.IsZero() || next.After(retryAt) {
		t.Errorf("next = %v, want a time no later than the retry at %v", next, retryAt)
	}
	if err := s.Ack(again[0], sent(now)); err != nil {
		t.Fatal(err)
	}
	if early := mustClaim(t, s, retryAt.Add(-time.Second), app, time.Minute); len(early) != 0 {
		t.Fatalf("before the retry is due: %v", ids(early))
	}
	head := mustClaim(t, s, retryAt, app, time.Minute)
	if len(head) != 1 || head[0].EventID != iv[0] || head[0].Attempts != 1 {
		t.Fatalf("at the retry: %v (%+v), want %s with 1 attempt", ids(head), head, iv[0])
	}
	if err := s.Ack(head[0], sent(retryAt)); err != nil {
		t.Fatal(err)
	}
	if nx := mustClaim(t, s, retryAt, app, time.Minute); len(nx) != 1 || nx[0].EventID != iv[1] {
		t.Fatalf("after the head was acked: %v, want %s", ids(nx), iv[1])
	}
}

// A dead letter leaves the outbox and is listed; settling twice fails
// with ErrNotFound.
func testClaimDeadLetter(t *testing.T, e Engine) {
	s := openOutbox(t, e)
	id := mustAccept(t, s, delivery(1, "dead")).ID
	now := later()
	got := mustClaim(t, s, now, map[string]int{"app": 1}, time.Minute)
	if len(got) != 1 {
		t.Fatalf("claim: %v", ids(got))
	}
	a := sent(now)
	if err := s.DeadLetter(got[0], &a, "permanent failure: status 400"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(got[0], sent(now)); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("ack after dead letter: %v, want ErrNotFound", err)
	}
	dls, err := s.DeadLetters(inbox.DeadLetterFilter{Destination: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 || dls[0].EventID != id || dls[0].Reason != "permanent failure: status 400" {
		t.Fatalf("dead letters: %+v", dls)
	}
	if again := mustClaim(t, s, now.Add(time.Hour), map[string]int{"app": 10}, time.Minute); len(again) != 0 {
		t.Fatalf("dead-lettered entry claimed again: %v", ids(again))
	}
}

// A claim whose lease has passed may be taken by another claim: with
// Features.MultiNode, a second node takes a dead node's entry.
func testClaimLeaseLapses(t *testing.T, e Engine) {
	a := openOutbox(t, e)
	b := a
	if e.Features.MultiNode {
		b = openOutbox(t, e)
	}
	id := mustAccept(t, a, delivery(1, "lease")).ID
	now := later()
	if got := mustClaim(t, a, now, map[string]int{"app": 1}, time.Minute); len(got) != 1 {
		t.Fatalf("claim: %v", ids(got))
	}
	// Node a dies here, its claim unsettled.
	if got := mustClaim(t, b, now.Add(30*time.Second), map[string]int{"app": 1}, time.Minute); len(got) != 0 {
		t.Fatalf("taken within the lease: %v", ids(got))
	}
	got := mustClaim(t, b, now.Add(2*time.Minute), map[string]int{"app": 1}, time.Minute)
	if len(got) != 1 || got[0].EventID != id {
		t.Fatalf("after the lease: %v, want %s", ids(got), id)
	}
	if err := b.Ack(got[0], sent(now)); err != nil {
		t.Fatal(err)
	}
}

// A settle from a lapsed, retaken claim does not undo the new claim: a
// late Ack does not remove the entry (the interview's next event stays
// behind it), a late Retry or Release does not free it, and the new
// claim settles. A lapsed claim nobody took since still settles. With
// Features.MultiNode the new claim is another node's.
func testClaimRetakenFenced(t *testing.T, e Engine) {
	a := openOutbox(t, e)
	b := a
	if e.Features.MultiNode {
		b = openOutbox(t, e)
	}
	x := mustAccept(t, a, delivery(1, "fence-x")).ID
	y := mustAccept(t, a, delivery(1, "fence-y")).ID
	now, app := later(), map[string]int{"app": 10}
	old := mustClaim(t, a, now, app, time.Minute)
	if len(old) != 1 || old[0].EventID != x {
		t.Fatalf("first claim: %v, want %s", ids(old), x)
	}
	// a's attempt outlives its lease; b takes the entry again.
	at := now.Add(2 * time.Minute)
	cur := mustClaim(t, b, at, app, time.Minute)
	if len(cur) != 1 || cur[0].EventID != x {
		t.Fatalf("after the lease: %v, want %s", ids(cur), x)
	}
	if err := a.Ack(old[0], sent(now)); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("late ack: got %v, want ErrNotFound", err)
	}
	if got := mustClaim(t, b, at, app, time.Minute); len(got) != 0 {
		t.Fatalf("after the late ack: %v, want none (%s is still claimed, %s behind it)", ids(got), x, y)
	}
	if err := a.Retry(old[0], now, nil); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("late retry: got %v, want ErrNotFound", err)
	}
	a.Release(old[0])
	if got := mustClaim(t, b, at, app, time.Minute); len(got) != 0 {
		t.Fatalf("after a late retry and release: %v, want none", ids(got))
	}
	if err := b.Ack(cur[0], sent(at)); err != nil {
		t.Fatalf("ack of the new claim: %v", err)
	}
	head := mustClaim(t, b, at, app, time.Minute)
	if len(head) != 1 || head[0].EventID != y {
		t.Fatalf("after the new claim's ack: %v, want %s", ids(head), y)
	}
	// Its lease passes and nobody takes it: its settle still counts.
	mustClaim(t, a, at.Add(5*time.Minute), map[string]int{"audit": 1}, time.Minute)
	if err := b.Ack(head[0], sent(at)); err != nil {
		t.Fatalf("ack of a lapsed claim nobody took: %v", err)
	}
	if got := mustClaim(t, a, at.Add(5*time.Minute), app, time.Minute); len(got) != 0 {
		t.Fatalf("after every ack: %v, want none", ids(got))
	}
}

// Claimers running at once (two nodes with Features.MultiNode) never
// get the same delivery while its claim holds, an entry settled is never
// handed out again, and each interview's events go in order.
func testConcurrentClaimers(t *testing.T, e Engine) {
	a := openOutbox(t, e)
	b := a
	if e.Features.MultiNode {
		b = openOutbox(t, e)
	}
	const interviews, perInterview = 10, 4
	total := int64(interviews * perInterview * 2) // two destinations
	for i := range interviews * perInterview {
		mustAccept(t, a, delivery(i%interviews, fmt.Sprint("many-", i)))
	}
	var (
		mu     sync.Mutex
		claims = map[string]int{}      // "<id>/<dest>" → times returned
		order  = map[string][]uint64{} // "<interview>/<dest>" → seqs, as claimed
		acked  atomic.Int64
		failed atomic.Bool // a claimer gave up: the other stops too
	)
	now := later()
	claimer := func(s Store) (err error) {
		defer func() { failed.Store(err != nil || failed.Load()) }()
		for acked.Load() < total && !failed.Load() {
			due, _, err := s.Claim(now, map[string]int{"app": 3, "audit": 3}, time.Hour)
			if err != nil {
				return err
			}
			mu.Lock()
			for _, d := range due {
				claims[d.EventID+"/"+d.Destination]++
				k := d.InterviewID + "/" + d.Destination
				order[k] = append(order[k], d.Seq)
			}
			mu.Unlock()
			for _, d := range due {
				if err := s.Ack(d, sent(now)); err != nil {
					return fmt.Errorf("ack %s/%s: %w (handed out after it was settled?)", d.EventID, d.Destination, err)
				}
				acked.Add(1)
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []Store{a, b} {
		wg.Go(func() { errs[i] = claimer(s) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for k, n := range claims {
		if n != 1 {
			t.Errorf("%s returned %d times", k, n)
		}
	}
	if int64(len(claims)) != total {
		t.Errorf("%d deliveries claimed, want %d", len(claims), total)
	}
	for k, seqs := range order {
		for i := 1; i < len(seqs); i++ {
			if seqs[i] <= seqs[i-1] {
				t.Errorf("%s claimed out of order: %v", k, seqs)
				break
			}
		}
	}
}
