package inboxtest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// Abandon moves the pending deliveries of a removed destination to the
// dead letters: listed with the reason, state dead, history saying who
// and why, gone from the outbox. One a node holds under a live lease is
// left and counted, and taken by a second Abandon once the lease has
// passed. Other destinations are untouched; the dead letters no longer
// hold retention, and replay once the destination is back. With
// Features.MultiNode the lease is another node's.
func testAbandon(t *testing.T, e Engine) {
	a := openOutbox(t, e)
	b := a
	if e.Features.MultiNode {
		b = openOutbox(t, e)
	}
	const n = 5
	var evs []string
	for i := range n {
		evs = append(evs, mustAccept(t, a, delivery(i, fmt.Sprint("abandon-", i))).ID)
	}
	now := later()
	held := mustClaim(t, b, now, map[string]int{"app": 1}, time.Minute)
	if len(held) != 1 || held[0].EventID != evs[0] {
		t.Fatalf("claim: %v, want %s", ids(held), evs[0])
	}
	r := inbox.AbandonRequest{By: "fp-admin", Reason: "app decommissioned"}
	got, err := a.Abandon("app", r, now.Add(30*time.Second))
	if err != nil || got != (inbox.Abandoned{DeadLettered: n - 1, Leased: 1}) {
		t.Fatalf("abandon within the lease: %+v, %v; want %d dead-lettered, 1 leased", got, err, n-1)
	}
	checkAbandoned(t, a, evs[1:], r)
	if left := mustClaim(t, a, now.Add(30*time.Second), map[string]int{"app": 10}, time.Minute); len(left) != 0 {
		t.Errorf("app entries claimable after the abandon: %v", ids(left))
	}
	audit := mustClaim(t, a, now, map[string]int{"audit": 10}, time.Minute)
	if len(audit) != n {
		t.Fatalf("audit after app's abandon: %v, want all %d", ids(audit), n)
	}
	for _, d := range audit {
		if err := a.Ack(d, sent(now)); err != nil {
			t.Fatal(err)
		}
	}
	checkPrune(t, e, a, 0, evs[0]) // the leased delivery still holds it

	got, err = a.Abandon("app", r, now.Add(2*time.Minute))
	if err != nil || got != (inbox.Abandoned{DeadLettered: 1}) {
		t.Fatalf("abandon after the lease: %+v, %v; want 1 dead-lettered, none leased", got, err)
	}
	checkAbandoned(t, a, evs, r)
	if err := b.Ack(held[0], sent(now)); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("ack of the lapsed claim after its abandon: %v, want ErrNotFound", err)
	}
	if got, err := a.Abandon("app", r, now.Add(3*time.Minute)); err != nil || got != (inbox.Abandoned{}) {
		t.Errorf("abandon with nothing left: %+v, %v", got, err)
	}

	// The destination comes back: a dead letter replays and delivers.
	q, err := a.Replay(evs[1], "app", inbox.ReplayRequest{By: "fp-admin", Reason: "app is back"})
	if err != nil || !slices.Equal(q, []string{"app"}) {
		t.Fatalf("replay: %v, %v", q, err)
	}
	again := mustClaim(t, a, now.Add(3*time.Minute), map[string]int{"app": 10}, time.Minute)
	if len(again) != 1 || again[0].EventID != evs[1] {
		t.Fatalf("claim after the replay: %v, want %s", ids(again), evs[1])
	}
	if err := a.Ack(again[0], sent(now)); err != nil {
		t.Fatal(err)
	}
	checkPrune(t, e, a, n, "")
}

// checkAbandoned checks that the deliveries of evs to app are dead
// letters with r's reason, dead, no attempt counted, with r in their
// history, and that app has no dead letter of any other event.
func checkAbandoned(t *testing.T, s Store, evs []string, r inbox.AbandonRequest) {
	t.Helper()
	dls, err := s.DeadLetters(inbox.DeadLetterFilter{Destination: "app"})
	if err != nil {
		t.Fatal(err)
	}
	var dead []string
	for _, dl := range dls {
		dead = append(dead, dl.EventID)
		if dl.Reason != r.Reason || dl.Attempts != 0 || dl.Source != "koji" || dl.Type != "interview.completed" {
			t.Errorf("dead letter %+v", dl)
		}
	}
	if slices.Sort(dead); !slices.Equal(dead, slices.Sorted(slices.Values(evs))) {
		t.Errorf("app's dead letters: %v, want %v", dead, evs)
	}
	if others, err := s.DeadLetters(inbox.DeadLetterFilter{Destination: "audit"}); err != nil || len(others) != 0 {
		t.Errorf("audit's dead letters: %+v, %v", others, err)
	}
	for _, id := range evs {
		states, err := s.Deliveries(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			if st.Destination == "app" && (st.Status != inbox.DeliveryDead || st.LastError != r.Reason) {
				t.Errorf("%s: app's state %+v, want dead with the reason", id, st)
			}
		}
		hist, err := s.Attempts(id)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(hist, func(a inbox.Attempt) bool { return a.Kind == inbox.AttemptAbandon }); i < 0 ||
			hist[i].Destination != "app" || hist[i].By != r.By || hist[i].Reason != r.Reason || hist[i].Outcome != inbox.OutcomeDead {
			t.Errorf("%s: history %+v, want an abandon line for app by %s", id, hist, r.By)
		}
	}
}

// checkPrune runs retention, when the engine offers it, over every event
// accepted so far, and checks what it removed and what held it.
func checkPrune(t *testing.T, e Engine, s Store, removed int, heldBy string) {
	t.Helper()
	if e.Prune == nil {
		return
	}
	rep, err := e.Prune(s, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != removed || rep.HeldBy != heldBy {
		t.Errorf("retention: removed %d, held by %q; want %d, %q", rep.Removed, rep.HeldBy, removed, heldBy)
	}
}
